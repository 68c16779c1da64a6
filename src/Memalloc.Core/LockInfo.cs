using System;

namespace Memalloc.Core;

/// <summary>A lock held by a live process, as <see cref="MemStore.ListLocks"/> sees it.</summary>
public sealed class LockInfo
{
    /// <summary>The lock's name (case-sensitive).</summary>
    public required string Name { get; init; }

    /// <summary>The store holding the lock.</summary>
    public required string Store { get; init; }

    /// <summary>The process holding it.</summary>
    public int OwnerPid { get; init; }

    /// <summary>UTC time of the acquisition.</summary>
    public DateTime Since { get; init; }

    /// <summary>How many waiters wait for it (counted up to 32 waiters per store at once; a lower bound past that).</summary>
    public int Waiters { get; init; }

    /// <summary>The fencing token of the acquisition: grows with every acquisition, never reused.</summary>
    public long Token { get; init; }
}
