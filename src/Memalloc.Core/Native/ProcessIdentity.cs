using System;

namespace Memalloc.Core.Native;

/// <summary>
/// What lock words need to know about the process they name, on each platform: is it dead (gone, or a zombie: killed but
/// not yet reaped by its parent, which still answers kill(pid, 0) but will never release a lock), and its start-time
/// token, which tells a pid reused by a later process from the one that took the lock. Linux reads /proc/&lt;pid&gt;/stat
/// (<see cref="Procfs"/>); macOS asks proc_pidinfo (<see cref="DarwinProcess"/>), which fails with ESRCH for gone and
/// zombie processes alike.
/// </summary>
internal static class ProcessIdentity
{
    /// <summary>True when the process is certainly dead: kill(pid, 0) says ESRCH, or it is a zombie.</summary>
    internal static bool IsDead(int pid)
    {
        if (!Libc.ProcessExists(pid))
        {
            return true;
        }

        if (OperatingSystem.IsMacOS())
        {
            // kill(pid, 0) succeeded, so ESRCH here is a zombie (PROC_PIDTBSDINFO with arg 0 skips zombies); a pid that
            // reports SZOMB is one too. EPERM (another user's) and anything else: alive, as far as anyone can tell.
            var errno = DarwinProcess.Query(pid, out var info);
            return errno == Libc.ESRCH || (errno == 0 && info.IsZombie);
        }

        return Procfs.ProcessState(pid) is 'Z' or 'X';
    }

    /// <summary>The process's start time as a non-zero 32-bit token (bit 31 set); 0 when unknown (gone meanwhile, or not
    /// readable). Linux: clock ticks since boot (/proc/&lt;pid&gt;/stat field 22); macOS: microseconds since 1970
    /// (pbi_start_tvsec, pbi_start_tvusec).</summary>
    internal static uint StartTimeToken(int pid)
    {
        if (OperatingSystem.IsMacOS())
        {
            return DarwinProcess.Query(pid, out var info) == 0 ? info.StartTimeToken : 0;
        }

        return Procfs.ProcessStartTicks(pid) is { } ticks ? (uint)ticks | 0x8000_0000u : 0;
    }
}
