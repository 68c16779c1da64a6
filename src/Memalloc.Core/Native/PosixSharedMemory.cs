using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace Memalloc.Core.Native;

/// <summary>
/// POSIX shared memory for arenas where System V is too small (macOS's stock limits): shm_open, ftruncate, fstat,
/// mmap(MAP_SHARED), munmap, close, shm_unlink. Declarations are private; the wrappers return the errno for the caller
/// to decide (EEXIST, ENOENT, ENOSPC...). The file descriptor is only held between opening and mapping: a mapping
/// keeps the object alive by itself, and macOS's default limit of 256 open files must not limit the number of stores.
/// Names follow POSIX (one leading '/', no other) and macOS's PSHMNAMLEN of 31 characters (bsd/sys/posix_shm.h).
/// </summary>
internal static unsafe partial class PosixSharedMemory
{
    private const string LibraryName = Libc.LibraryName;

    /// <summary>The name shm_open and shm_unlink are imported from: libc, or librt.so.1 under glibc before 2.34
    /// (<see cref="LibraryResolver"/> decides).</summary>
    internal const string RealtimeLibraryName = "librt";

    /// <summary>bsd/sys/posix_shm.h: <c>#define PSHMNAMLEN 31</c>, the longest name macOS accepts (ENAMETOOLONG beyond).</summary>
    internal const int MaxNameLength = 31;

    // fcntl.h: O_RDWR is 2 everywhere; O_CREAT and O_EXCL differ (Linux asm-generic/fcntl.h 0100 and 0200 octal;
    // macOS bsd/sys/fcntl.h 0x200 and 0x800).
    private const int O_RDWR = 2;
    private static readonly int s_createExclusive = OperatingSystem.IsMacOS() ? 0x200 | 0x800 : 0x40 | 0x80;

    // sys/mman.h: the same values on Linux and macOS.
    private const int PROT_READ = 1;
    private const int PROT_WRITE = 2;
    private const int MAP_SHARED = 1;

    /// <summary>Owner read and write, nothing for group or other.</summary>
    internal const int OwnerReadWrite = 0x180; // 0600

    [LibraryImport(RealtimeLibraryName, EntryPoint = "shm_open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int ShmOpen(string name, int oflag, nint mode);

    /// <summary>
    /// shm_open is variadic (<c>int shm_open(const char *, int, ...)</c>). Apple's arm64 ABI passes variadic arguments on
    /// the stack, not in registers as a plain call would (the reason dotnet/runtime#48752 gives for semctl): six dummy
    /// register arguments fill x2..x7 so that the mode lands in the first stack slot, where va_arg reads it.
    /// </summary>
    [LibraryImport(RealtimeLibraryName, EntryPoint = "shm_open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int ShmOpenAppleArm64(string name, int oflag, nint x2, nint x3, nint x4, nint x5, nint x6, nint x7, nint mode);

    [LibraryImport(RealtimeLibraryName, EntryPoint = "shm_unlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int ShmUnlink(string name);

    [LibraryImport(LibraryName, EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int FTruncate(int fd, long length);

    /// <summary>Linux only: reserves the pages, so that a full /dev/shm fails here with ENOSPC instead of raising SIGBUS
    /// at the first write to a page tmpfs cannot back. Returns the error number itself (not -1 and errno).</summary>
    [LibraryImport(LibraryName, EntryPoint = "posix_fallocate")]
    private static partial int PosixFAllocate(int fd, long offset, long length);

    [LibraryImport(LibraryName, EntryPoint = "fstat", SetLastError = true)]
    private static partial int FStat(int fd, byte* buffer);

    /// <summary>macOS x86_64's 64-bit-inode fstat (bsd/sys/stat.h: <c>__DARWIN_INODE64(fstat)</c>); arm64 has only <c>fstat</c>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "fstat$INODE64", SetLastError = true)]
    private static partial int FStatInode64(int fd, byte* buffer);

    /// <summary>glibc before 2.33 exports no <c>fstat</c>, only <c>__fxstat(_STAT_VER, fd, buf)</c>; _STAT_VER is 1 on
    /// x86_64 (sysdeps/unix/sysv/linux/x86/bits/stat.h) and 0 on the generic ports (arm64).</summary>
    [LibraryImport(LibraryName, EntryPoint = "__fxstat", SetLastError = true)]
    private static partial int FxStat(int version, int fd, byte* buffer);

    [LibraryImport(LibraryName, EntryPoint = "mmap", SetLastError = true)]
    private static partial IntPtr MMap(IntPtr address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(LibraryName, EntryPoint = "munmap", SetLastError = true)]
    private static partial int MUnmap(IntPtr address, nuint length);

    [LibraryImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    private static partial int CloseNative(int fd);

    private static bool s_useFxStat;

    /// <summary>Creates the object exclusively (O_CREAT | O_EXCL, mode 0600) and sizes it; the descriptor, or -1 with
    /// <paramref name="errno"/> (EEXIST: something is at the name). An object that cannot be sized is removed again.</summary>
    internal static int Create(string name, long size, out int errno)
    {
        var flags = O_RDWR | s_createExclusive;
        var fd = OperatingSystem.IsMacOS() && RuntimeInformation.ProcessArchitecture == Architecture.Arm64
            ? ShmOpenAppleArm64(name, flags, 0, 0, 0, 0, 0, 0, OwnerReadWrite)
            : ShmOpen(name, flags, OwnerReadWrite);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return -1;
        }

        errno = FTruncate(fd, size) == 0 ? 0 : Marshal.GetLastPInvokeError();
        if (errno == 0 && OperatingSystem.IsLinux())
        {
            errno = PosixFAllocate(fd, 0, size);
        }

        if (errno != 0)
        {
            Close(fd);
            ShmUnlink(name);
            return -1;
        }

        return fd;
    }

    /// <summary>Opens an existing object read-write; the descriptor, or -1 with <paramref name="errno"/> (ENOENT: gone).</summary>
    internal static int Open(string name, out int errno)
    {
        var fd = ShmOpen(name, O_RDWR, 0);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd;
    }

    /// <summary>fstat decoded through the platform's layout; false with <paramref name="errno"/> on failure.</summary>
    internal static bool TryStat(int fd, out FileStatus status, out int errno)
    {
        var buffer = stackalloc byte[FileStatusLayout.BufferSize];
        new Span<byte>(buffer, FileStatusLayout.BufferSize).Clear();
        if (StatNative(fd, buffer) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            status = default;
            return false;
        }

        errno = 0;
        status = FileStatusLayout.DecodeNative(new ReadOnlySpan<byte>(buffer, FileStatusLayout.BufferSize));
        return true;
    }

    private static int StatNative(int fd, byte* buffer)
    {
        if (OperatingSystem.IsMacOS())
        {
            return RuntimeInformation.ProcessArchitecture == Architecture.X64 ? FStatInode64(fd, buffer) : FStat(fd, buffer);
        }

        if (!s_useFxStat)
        {
            try
            {
                return FStat(fd, buffer);
            }
            catch (EntryPointNotFoundException)
            {
                s_useFxStat = true;
            }
        }

        return FxStat(RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 1 : 0, fd, buffer);
    }

    /// <summary>Maps <paramref name="length"/> bytes read-write and shared; null with <paramref name="errno"/> on failure.</summary>
    internal static byte* Map(int fd, long length, out int errno)
    {
        var address = MMap(IntPtr.Zero, (nuint)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (address == new IntPtr(-1))
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return (byte*)address;
    }

    /// <summary>munmap; a failure cannot be acted upon (the range is ours), so it is only reported as bool.</summary>
    internal static bool Unmap(byte* address, long length) => MUnmap((IntPtr)address, (nuint)length) == 0;

    internal static void Close(int fd) => CloseNative(fd);

    /// <summary>Names (with their leading '/') of the objects in /dev/shm that start with <paramref name="prefix"/>: Linux
    /// keeps POSIX shared memory there (glibc and musl), every user's in one directory. macOS has no way to list them:
    /// none there.</summary>
    internal static List<string> ListLinuxObjects(string prefix)
    {
        var names = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            return names;
        }

        try
        {
            foreach (var path in Directory.EnumerateFiles("/dev/shm", prefix + "*"))
            {
                names.Add("/" + Path.GetFileName(path));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return names;
    }

    /// <summary>shm_unlink; returns errno (0 on success). The memory lives on while any process has it mapped.</summary>
    internal static int Unlink(string name) => ShmUnlink(name) == 0 ? 0 : Marshal.GetLastPInvokeError();
}
