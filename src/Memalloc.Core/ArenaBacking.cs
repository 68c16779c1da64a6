namespace Memalloc.Core;

/// <summary>Where a store's arenas live, recorded in its anchor at creation (store-format.md §3, anchor byte 384). The
/// anchor itself is always a System V segment. Get-MemStore shows it.</summary>
public enum ArenaBacking : uint
{
    /// <summary>System V segments: every store made before the choice existed (the field is 0 there).</summary>
    SystemV = 0,

    /// <summary>POSIX shared memory objects (shm_open), where System V is too small (macOS's stock limits).</summary>
    Posix = 1,
}
