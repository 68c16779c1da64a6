using System;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Memalloc.Core.Native;

/// <summary>
/// The <c>struct stat</c> layouts of the 64-bit platforms Memalloc runs on, as pure decoders (tested on buffers). Only
/// the fields the store reads are decoded.
/// </summary>
internal static class FileStatusLayout
{
    /// <summary>Larger than every layout below (Linux x86_64 144 bytes, Linux generic 128, macOS 144).</summary>
    internal const int BufferSize = 256;

    /// <summary>
    /// Linux x86_64, kernel arch/x86/include/uapi/asm/stat.h and glibc sysdeps/unix/sysv/linux/x86/bits/struct_stat.h:
    /// <code>
    /// dev_t st_dev @0 (u64); ino_t st_ino @8 (u64); nlink_t st_nlink @16 (u64); mode_t st_mode @24 (u32);
    /// uid_t st_uid @28; gid_t st_gid @32; int __pad0 @36; dev_t st_rdev @40; off_t st_size @48; ...   // 144 bytes
    /// </code>
    /// </summary>
    internal static FileStatus DecodeLinuxX64(ReadOnlySpan<byte> stat) => new(
        Device: BinaryPrimitives.ReadUInt64LittleEndian(stat),
        Inode: BinaryPrimitives.ReadUInt64LittleEndian(stat[8..]),
        Links: BinaryPrimitives.ReadUInt64LittleEndian(stat[16..]),
        Mode: BinaryPrimitives.ReadUInt32LittleEndian(stat[24..]),
        Uid: BinaryPrimitives.ReadUInt32LittleEndian(stat[28..]),
        Gid: BinaryPrimitives.ReadUInt32LittleEndian(stat[32..]),
        Size: BinaryPrimitives.ReadInt64LittleEndian(stat[48..]));

    /// <summary>
    /// Linux arm64 (and every "generic" 64-bit Linux port), kernel include/uapi/asm-generic/stat.h and glibc
    /// sysdeps/unix/sysv/linux/generic/bits/struct_stat.h; musl arch/aarch64/bits/stat.h agrees:
    /// <code>
    /// dev_t st_dev @0 (u64); ino_t st_ino @8 (u64); mode_t st_mode @16 (u32); nlink_t st_nlink @20 (u32);
    /// uid_t st_uid @24; gid_t st_gid @28; dev_t st_rdev @32; u64 __pad1 @40; off_t st_size @48; ...     // 128 bytes
    /// </code>
    /// </summary>
    internal static FileStatus DecodeLinuxGeneric(ReadOnlySpan<byte> stat) => new(
        Device: BinaryPrimitives.ReadUInt64LittleEndian(stat),
        Inode: BinaryPrimitives.ReadUInt64LittleEndian(stat[8..]),
        Links: BinaryPrimitives.ReadUInt32LittleEndian(stat[20..]),
        Mode: BinaryPrimitives.ReadUInt32LittleEndian(stat[16..]),
        Uid: BinaryPrimitives.ReadUInt32LittleEndian(stat[24..]),
        Gid: BinaryPrimitives.ReadUInt32LittleEndian(stat[28..]),
        Size: BinaryPrimitives.ReadInt64LittleEndian(stat[48..]));

    /// <summary>
    /// macOS x86_64 and arm64, 64-bit inodes (bsd/sys/stat.h, <c>__DARWIN_STRUCT_STAT64</c>; arm64 has only this layout,
    /// x86_64 gets it from the <c>fstat$INODE64</c> entry point):
    /// <code>
    /// dev_t st_dev @0 (i32); mode_t st_mode @4 (u16); nlink_t st_nlink @6 (u16); __darwin_ino64_t st_ino @8 (u64);
    /// uid_t st_uid @16; gid_t st_gid @20; dev_t st_rdev @24; (pad) @28; struct timespec st_atimespec @32,
    /// st_mtimespec @48, st_ctimespec @64, st_birthtimespec @80; off_t st_size @96; ...                   // 144 bytes
    /// </code>
    /// </summary>
    internal static FileStatus DecodeDarwin(ReadOnlySpan<byte> stat) => new(
        Device: BinaryPrimitives.ReadUInt32LittleEndian(stat),
        Inode: BinaryPrimitives.ReadUInt64LittleEndian(stat[8..]),
        Links: BinaryPrimitives.ReadUInt16LittleEndian(stat[6..]),
        Mode: BinaryPrimitives.ReadUInt16LittleEndian(stat[4..]),
        Uid: BinaryPrimitives.ReadUInt32LittleEndian(stat[16..]),
        Gid: BinaryPrimitives.ReadUInt32LittleEndian(stat[20..]),
        Size: BinaryPrimitives.ReadInt64LittleEndian(stat[96..]));

    /// <summary>The decoder for the platform this process runs on.</summary>
    internal static FileStatus DecodeNative(ReadOnlySpan<byte> stat) =>
        OperatingSystem.IsMacOS() ? DecodeDarwin(stat)
        : RuntimeInformation.ProcessArchitecture == Architecture.X64 ? DecodeLinuxX64(stat)
        : DecodeLinuxGeneric(stat);
}
