using System.Collections.Generic;

namespace Memalloc.Core;

/// <summary>A snapshot of one store's size, segments and ownership.</summary>
public sealed class StoreStatistics
{
    /// <summary>The store's name (case-sensitive).</summary>
    public required string Name { get; init; }

    /// <summary>Where the store lives: "SharedMemory" (this machine's System V or POSIX shared memory) or "Redis".</summary>
    public string Backend { get; init; } = "SharedMemory";

    /// <summary>For a Redis store: its server(s), as the connection string without a password; null otherwise.</summary>
    public string? Server { get; init; }

    /// <summary>For a Redis store: the prefix of its keys; null otherwise.</summary>
    public string? KeyPrefix { get; init; }

    /// <summary>System V key of the store's anchor segment.</summary>
    public int Key { get; init; }

    /// <summary>shmids of the System V segments: the anchor, then, for System V arenas, the current arena and, when the store
    /// keeps one, the spare arena (in that order).</summary>
    public required IReadOnlyList<int> SegmentIds { get; init; }

    /// <summary>Where the arenas live, fixed at creation: System V segments, or POSIX shared memory objects where the
    /// kernel's System V limits are too small for useful stores (macOS's stock limits).</summary>
    public ArenaBacking ArenaBacking { get; init; }

    /// <summary>For POSIX arenas, the names of the objects (current arena, then the spare), as shm_open takes them (on Linux
    /// they are files in /dev/shm); empty for System V arenas.</summary>
    public IReadOnlyList<string> ArenaObjects { get; init; } = [];

    /// <summary>Bytes of the current arena.</summary>
    public long Capacity { get; init; }

    /// <summary>Largest arena the store may grow to, fixed at creation.</summary>
    public long MaxCapacity { get; init; }

    /// <summary>Bytes of the current arena in use: its header and index, and the records readers can reach.</summary>
    public long BytesUsed { get; init; }

    /// <summary>Capacity minus BytesUsed (garbage of overwritten and removed records counts as free: compaction reclaims it).</summary>
    public long BytesFree { get; init; }

    /// <summary>Stacks readers see: expired ones are not counted.</summary>
    public long Entries { get; init; }

    /// <summary>Expired stacks whose records still take space until the next compaction.</summary>
    public long ExpiredEntries { get; init; }

    /// <summary>Arena generation: increases each time the store grows or compacts into a new segment.</summary>
    public long Generation { get; init; }

    /// <summary>Permission bits of the segments, as "rw-------".</summary>
    public required string Permissions { get; init; }

    /// <summary>Numeric uid of the segments' owner.</summary>
    public int OwnerUid { get; init; }

    /// <summary>The owner's user name (the uid as text when it is not the current user).</summary>
    public required string Owner { get; init; }

    /// <summary>Waiters registered on the store's wait buckets now (Wait-MemStack, Receive-MemQueue -Wait, Use-MemLock).</summary>
    public int Waiters { get; init; }

    /// <summary>How this machine's processes sleep while they wait (<see cref="Core.WaitPrimitive.Sleep"/>: no kernel
    /// primitive is usable, and waiters re-check every 10 ms).</summary>
    public WaitPrimitive WaitPrimitive { get; init; }

    /// <summary>Persistence traps detected on this machine (systemd RemoveIPC, a private IPC namespace...).</summary>
    public required IReadOnlyList<string> Warnings { get; init; }
}
