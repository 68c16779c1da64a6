using System;

namespace Memalloc.Core.Native;

/// <summary>What <c>proc_pidinfo(pid, PROC_PIDTBSDINFO, ...)</c> says about a process: its state and its start time.
/// The start time makes a lock word's token on macOS as /proc/&lt;pid&gt;/stat's field 22 does on Linux.</summary>
internal readonly record struct DarwinProcessInfo(uint Status, uint Pid, ulong StartSeconds, ulong StartMicroseconds)
{
    /// <summary>Dead but not yet reaped by its parent (p_stat SZOMB): it will never release a lock.</summary>
    internal bool IsZombie => Status == DarwinProcess.SZOMB;

    /// <summary>Low 32 bits of the start time in microseconds since 1970, bit 31 forced to 1 (so never 0, "unknown").
    /// A pid reused by a later process carries another token, except once in 2^31 at the same microsecond phase.</summary>
    internal uint StartTimeToken => (uint)unchecked((StartSeconds * 1_000_000) + StartMicroseconds) | 0x8000_0000u;
}
