using System;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Memalloc.Core.Native;

/// <summary>
/// Lock-owner liveness on macOS through libproc's <c>proc_pidinfo</c> (there is no /proc). The flavor
/// PROC_PIDTBSDINFO with arg 0 looks up live processes only (bsd/kern/proc_info.c, proc_pidinfo: zombies are
/// searched for only when arg is non-zero), so a gone or zombie process fails with ESRCH; a process of another
/// user fails with EPERM (it exists). The decoder is a pure function over the bytes the kernel copies out, tested
/// on buffers laid out as the header says; the call itself only runs on a Mac.
/// </summary>
internal static unsafe partial class DarwinProcess
{
    private const string LibraryName = Libc.LibraryName;

    /// <summary>bsd/sys/proc_info.h: <c>#define PROC_PIDTBSDINFO 3</c>.</summary>
    internal const int PROC_PIDTBSDINFO = 3;

    /// <summary>bsd/sys/proc.h: <c>#define SZOMB 5</c> (p_stat: awaiting collection by parent).</summary>
    internal const uint SZOMB = 5;

    /// <summary>
    /// <c>sizeof(struct proc_bsdinfo)</c> (bsd/sys/proc_info.h), the same on x86_64 and arm64 (no pointers, natural
    /// alignment, MAXCOMLEN = 16 from bsd/sys/param.h):
    /// <code>
    /// uint32_t pbi_flags @0; uint32_t pbi_status @4; uint32_t pbi_xstatus @8; uint32_t pbi_pid @12; uint32_t pbi_ppid @16;
    /// uid_t pbi_uid @20; gid_t pbi_gid @24; uid_t pbi_ruid @28; gid_t pbi_rgid @32; uid_t pbi_svuid @36;
    /// gid_t pbi_svgid @40; uint32_t rfu_1 @44; char pbi_comm[16] @48; char pbi_name[32] @64; uint32_t pbi_nfiles @96;
    /// uint32_t pbi_pgid @100; uint32_t pbi_pjobc @104; uint32_t e_tdev @108; uint32_t e_tpgid @112; int32_t pbi_nice @116;
    /// uint64_t pbi_start_tvsec @120; uint64_t pbi_start_tvusec @128;                                        // 136 bytes
    /// </code>
    /// </summary>
    internal const int BsdInfoSize = 136;

    private const int StatusOffset = 4;
    private const int PidOffset = 12;
    private const int StartSecondsOffset = 120;
    private const int StartMicrosecondsOffset = 128;

    /// <summary>libproc.h: <c>int proc_pidinfo(int pid, int flavor, uint64_t arg, void *buffer, int buffersize)</c>; returns
    /// the bytes written, 0 (or fewer than asked) on failure with errno set.</summary>
    [LibraryImport(LibraryName, EntryPoint = "proc_pidinfo", SetLastError = true)]
    private static partial int ProcPidInfo(int pid, int flavor, ulong arg, byte* buffer, int bufferSize);

    /// <summary>Decodes a <c>struct proc_bsdinfo</c>; false when the buffer is shorter than the struct.</summary>
    internal static bool TryDecodeBsdInfo(ReadOnlySpan<byte> buffer, out DarwinProcessInfo info)
    {
        if (buffer.Length < BsdInfoSize)
        {
            info = default;
            return false;
        }

        info = new DarwinProcessInfo(
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[StatusOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[PidOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(buffer[StartSecondsOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(buffer[StartMicrosecondsOffset..]));
        return true;
    }

    /// <summary>Asks the kernel about <paramref name="pid"/>: 0 with <paramref name="info"/> filled, or the errno
    /// (ESRCH: gone or a zombie; EPERM: alive, but another user's or not decodable).</summary>
    internal static int Query(int pid, out DarwinProcessInfo info)
    {
        info = default;
        if (pid <= 0)
        {
            return Libc.ESRCH;
        }

        var buffer = stackalloc byte[BsdInfoSize];
        var written = ProcPidInfo(pid, PROC_PIDTBSDINFO, 0, buffer, BsdInfoSize);
        if (written < BsdInfoSize)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno != 0 ? errno : Libc.ESRCH;
        }

        // A decoded pid that differs would mean a layout this code does not know: the process exists (the call
        // succeeded) but cannot be examined, as for EPERM. Never "dead": that would hand a live owner's lock to another.
        return TryDecodeBsdInfo(new ReadOnlySpan<byte>(buffer, BsdInfoSize), out info) && info.Pid == (uint)pid ? 0 : Libc.EPERM;
    }
}
