using System;
using System.Linq;
using Memalloc.Core;

namespace Memalloc;

/// <summary>What Get-MemStore emits about one store of the current user.</summary>
public sealed class MemStoreInfo
{
    public required string Name { get; init; }

    /// <summary>System V key of the store's anchor segment.</summary>
    public int Key { get; init; }

    /// <summary>shmids of the anchor and the current arena.</summary>
    public required int[] SegmentIds { get; init; }

    public long Capacity { get; init; }
    public long MaxCapacity { get; init; }
    public long BytesUsed { get; init; }
    public long BytesFree { get; init; }
    public long Entries { get; init; }

    /// <summary>Increases each time the store grows or compacts into a new segment.</summary>
    public long Generation { get; init; }

    /// <summary>Permission bits of the segments, as "rw-------".</summary>
    public required string Permissions { get; init; }

    public required string Owner { get; init; }
    public int OwnerUid { get; init; }

    /// <summary>Persistence traps found on this machine (systemd RemoveIPC, a private IPC namespace...).</summary>
    public required string[] Warnings { get; init; }

    internal static MemStoreInfo FromCore(StoreStatistics statistics) => new()
    {
        Name = statistics.Name,
        Key = statistics.Key,
        SegmentIds = statistics.SegmentIds.ToArray(),
        Capacity = statistics.Capacity,
        MaxCapacity = statistics.MaxCapacity,
        BytesUsed = statistics.BytesUsed,
        BytesFree = statistics.BytesFree,
        Entries = statistics.Entries,
        Generation = statistics.Generation,
        Permissions = statistics.Permissions,
        Owner = statistics.Owner,
        OwnerUid = statistics.OwnerUid,
        Warnings = statistics.Warnings.ToArray(),
    };

    public override string ToString() => Name;
}
