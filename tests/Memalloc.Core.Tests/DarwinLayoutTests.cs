using System;
using System.Buffers.Binary;
using Memalloc.Core.Native;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>
/// The Darwin-only native code cannot run here: its decoders are checked on byte buffers laid out field by field as
/// the XNU headers say (bsd/sys/proc_info.h, bsd/sys/ipcs.h, bsd/sys/ipc.h, bsd/sys/shm.h, bsd/sys/shm_internal.h,
/// bsd/sys/stat.h). Each buffer is written with the offsets the header gives, independently of the decoder's constants.
/// </summary>
public class DarwinLayoutTests
{
    [Fact]
    public void ProcBsdInfo_decodes_status_pid_and_start_time_at_the_header_offsets()
    {
        var buffer = new byte[136];
        buffer.AsSpan().Fill(0xEE); // every field the decoder must not read is garbage
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(0), 0x10);          // pbi_flags: PROC_FLAG_LP64
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), 2);             // pbi_status: SRUN
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(12), 4242);         // pbi_pid
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(16), 1);            // pbi_ppid
        "pwsh\0"u8.CopyTo(buffer.AsSpan(48));                                      // pbi_comm[16]
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(116), 0);            // pbi_nice
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(120), 1_700_000_000); // pbi_start_tvsec
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(128), 123_456);       // pbi_start_tvusec

        Assert.True(DarwinProcess.TryDecodeBsdInfo(buffer, out var info));
        Assert.Equal(new DarwinProcessInfo(2, 4242, 1_700_000_000, 123_456), info);
        Assert.False(info.IsZombie);
        Assert.Equal(unchecked((uint)1_700_000_000_123_456UL) | 0x8000_0000u, info.StartTimeToken);
    }

    [Fact]
    public void ProcBsdInfo_of_a_zombie_says_so_and_a_short_buffer_is_refused()
    {
        var buffer = new byte[136];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), 5); // SZOMB, bsd/sys/proc.h
        Assert.True(DarwinProcess.TryDecodeBsdInfo(buffer, out var info));
        Assert.True(info.IsZombie);
        Assert.False(DarwinProcess.TryDecodeBsdInfo(buffer.AsSpan(0, 135), out _));
    }

    [Fact]
    public void StartTimeToken_is_never_zero_and_tells_a_reused_pid_apart()
    {
        var first = new DarwinProcessInfo(2, 100, 1_700_000_000, 0);
        var reused = new DarwinProcessInfo(2, 100, 1_700_000_000, 1);
        Assert.NotEqual(first.StartTimeToken, reused.StartTimeToken);
        Assert.NotEqual(0u, new DarwinProcessInfo(2, 100, 0, 0).StartTimeToken);
    }

    [Fact]
    public void IpcsCommand_is_laid_out_as_the_LP64_struct()
    {
        var command = new byte[24];
        command.AsSpan().Fill(0xEE);
        DarwinSysctl.EncodeIterCommand(command, 7, 76, 0x0000_7FFF_1234_5678);
        Assert.Equal(1, BinaryPrimitives.ReadInt32LittleEndian(command.AsSpan(0)));   // ipcs_magic = IPCS_MAGIC
        Assert.Equal(2, BinaryPrimitives.ReadInt32LittleEndian(command.AsSpan(4)));   // ipcs_op = IPCS_SHM_ITER
        Assert.Equal(7, BinaryPrimitives.ReadInt32LittleEndian(command.AsSpan(8)));   // ipcs_cursor
        Assert.Equal(76, BinaryPrimitives.ReadInt32LittleEndian(command.AsSpan(12))); // ipcs_datalen
        Assert.Equal(0x0000_7FFF_1234_5678UL, BinaryPrimitives.ReadUInt64LittleEndian(command.AsSpan(16))); // ipcs_data

        BinaryPrimitives.WriteInt32LittleEndian(command.AsSpan(8), 9); // what the kernel writes back
        Assert.Equal(9, DarwinSysctl.ReadCursor(command));
    }

    /// <summary>A <c>struct user_shmid_ds</c> as the iterator copies it out (<c>#pragma pack(4)</c>, bsd/sys/shm_internal.h).</summary>
    private static byte[] ShmidDs(int key, uint uid, uint cuid, ushort mode, ushort seq, long size, int cpid, short nattch)
    {
        var ds = new byte[76];
        BinaryPrimitives.WriteUInt32LittleEndian(ds.AsSpan(0), uid);    // shm_perm.uid
        BinaryPrimitives.WriteUInt32LittleEndian(ds.AsSpan(4), 20);     // shm_perm.gid
        BinaryPrimitives.WriteUInt32LittleEndian(ds.AsSpan(8), cuid);   // shm_perm.cuid
        BinaryPrimitives.WriteUInt32LittleEndian(ds.AsSpan(12), 20);    // shm_perm.cgid
        BinaryPrimitives.WriteUInt16LittleEndian(ds.AsSpan(16), mode);  // shm_perm.mode
        BinaryPrimitives.WriteUInt16LittleEndian(ds.AsSpan(18), seq);   // shm_perm._seq
        BinaryPrimitives.WriteInt32LittleEndian(ds.AsSpan(20), key);    // shm_perm._key
        BinaryPrimitives.WriteInt64LittleEndian(ds.AsSpan(24), size);   // shm_segsz (user_size_t)
        BinaryPrimitives.WriteInt32LittleEndian(ds.AsSpan(32), 77);     // shm_lpid
        BinaryPrimitives.WriteInt32LittleEndian(ds.AsSpan(36), cpid);   // shm_cpid
        BinaryPrimitives.WriteInt16LittleEndian(ds.AsSpan(40), nattch); // shm_nattch, then 2 bytes of pack(4) padding
        BinaryPrimitives.WriteInt64LittleEndian(ds.AsSpan(44), 1);      // shm_atime
        BinaryPrimitives.WriteInt64LittleEndian(ds.AsSpan(52), 2);      // shm_dtime
        BinaryPrimitives.WriteInt64LittleEndian(ds.AsSpan(60), 3);      // shm_ctime
        BinaryPrimitives.WriteInt64LittleEndian(ds.AsSpan(68), 0);      // shm_internal (cleared by the kernel)
        return ds;
    }

    [Fact]
    public void IpcsEntry_decodes_through_the_IPC_STAT_decoder_and_rebuilds_the_shmid()
    {
        // Slot 5 (cursor 6 after the call), sequence 3: IXSEQ_TO_IPCID = 3 << 16 | 5.
        var entry = ShmidDs(key: 0x1234ABCD, uid: 501, cuid: 501, mode: 0x0800 | 0x180, seq: 3, size: 4096, cpid: 999, nattch: 2);
        Assert.True(DarwinSysctl.TryDecodeEntry(entry, cursorAfter: 6, out var segment));
        Assert.Equal((3 << 16) | 5, segment.ShmId);
        Assert.Equal(new SegmentStatus(0x1234ABCD, 501, 20, 501, 20, 0x0800 | 0x180, 4096, 999, 2), segment.Status);
    }

    [Fact]
    public void IpcsEntry_of_a_removed_or_free_slot_is_skipped()
    {
        var removed = ShmidDs(key: 0, uid: 501, cuid: 501, mode: 0x0800 | 0x0400 | 0x180, seq: 1, size: 4096, cpid: 1, nattch: 1);
        Assert.False(DarwinSysctl.TryDecodeEntry(removed, 1, out _));
        var free = ShmidDs(key: 0, uid: 0, cuid: 0, mode: 0x0200, seq: 1, size: 0, cpid: 0, nattch: 0);
        Assert.False(DarwinSysctl.TryDecodeEntry(free, 1, out _));
        Assert.False(DarwinSysctl.TryDecodeEntry(new byte[75], 1, out _));
    }

    [Fact]
    public void IpcStat_layout_of_macOS_matches_the_header_offsets()
    {
        var ds = ShmidDs(key: -5, uid: 501, cuid: 502, mode: 0x1B6, seq: 9, size: 1L << 33, cpid: 31337, nattch: 7);
        SegmentStatus status;
        unsafe
        {
            fixed (byte* p = ds)
            {
                status = MacOSAbi.DecodeShmidDs(p);
            }
        }

        Assert.Equal(new SegmentStatus(-5, 501, 20, 502, 20, 0x1B6, 1L << 33, 31337, 7), status);
    }

    [Fact]
    public void Stat_of_a_macOS_shm_object_decodes_mode_owner_and_size()
    {
        // bsd/kern/posix_shm.c, pshm_stat: only st_mode, st_uid, st_gid and st_size are set (no type bits, no inode).
        var stat = new byte[144];
        BinaryPrimitives.WriteUInt16LittleEndian(stat.AsSpan(4), 0x180);   // st_mode
        BinaryPrimitives.WriteUInt32LittleEndian(stat.AsSpan(16), 501);    // st_uid
        BinaryPrimitives.WriteUInt32LittleEndian(stat.AsSpan(20), 20);     // st_gid
        BinaryPrimitives.WriteInt64LittleEndian(stat.AsSpan(96), 1 << 20); // st_size
        var status = FileStatusLayout.DecodeDarwin(stat);
        Assert.Equal(new FileStatus(0, 0, 0, 0x180, 501, 20, 1 << 20), status);
        Assert.Equal(0x180, status.Permissions);
    }

    [Fact]
    public void EIDRM_on_macOS_is_90_not_EPWROFF_82()
    {
        // bsd/sys/errno.h: #define EPWROFF 82 (device power is off), #define EIDRM 90 (identifier removed).
        Assert.Equal(90, MacOSAbi.EIDRM);
    }
}
