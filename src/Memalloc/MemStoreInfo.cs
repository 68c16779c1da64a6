using System;
using System.ComponentModel;
using System.Linq;
using Memalloc.Core;

namespace Memalloc;

/// <summary>What Get-MemStore emits about one store of the current user.</summary>
[TypeConverter(typeof(DeserializedInfoConverter))]
public sealed class MemStoreInfo
{
    /// <summary>Only the module makes these: without a public constructor PowerShell cannot turn any object with a
    /// Name property into one, so only real ones (or deserialised ones, through <see cref="DeserializedInfoConverter"/>)
    /// bind to the stack cmdlets' -InputObject and -InputStore.</summary>
    internal MemStoreInfo()
    {
    }

    public required string Name { get; init; }

    /// <summary>System V key of the store's anchor segment.</summary>
    public int Key { get; init; }

    /// <summary>shmids of the anchor and the current arena.</summary>
    public required int[] SegmentIds { get; init; }

    public long Capacity { get; init; }
    public long MaxCapacity { get; init; }
    public long BytesUsed { get; init; }
    public long BytesFree { get; init; }
    /// <summary>Stacks that readers see: expired ones are not counted.</summary>
    public long Entries { get; init; }

    /// <summary>Stacks that expired and still take space until the next compaction reclaims it.</summary>
    public long ExpiredEntries { get; init; }

    /// <summary>Increases each time the store grows or compacts into a new segment.</summary>
    public long Generation { get; init; }

    /// <summary>Permission bits of the segments, as "rw-------".</summary>
    public required string Permissions { get; init; }

    public required string Owner { get; init; }
    public int OwnerUid { get; init; }

    /// <summary>Persistence traps found on this machine (systemd RemoveIPC, a private IPC namespace...), or what is
    /// wrong with orphaned segments.</summary>
    public required string[] Warnings { get; init; }

    /// <summary>True for segments of the user left without their store's anchor segment (removed by hand): nothing can
    /// reach their stacks, and Remove-MemStore frees them. <see cref="Name"/> is then 'orphaned:' and the anchor's
    /// key in hex, which no store can be called.</summary>
    public bool Orphaned { get; init; }

    internal const string OrphanPrefix = "orphaned:";

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
        ExpiredEntries = statistics.ExpiredEntries,
        Generation = statistics.Generation,
        Permissions = statistics.Permissions,
        Owner = statistics.Owner,
        OwnerUid = statistics.OwnerUid,
        Warnings = statistics.Warnings.ToArray(),
    };

    /// <summary>One group of orphaned segments (those that named one anchor key), as Get-MemStore lists it.</summary>
    internal static MemStoreInfo FromOrphans(OrphanedSegments orphans) => new()
    {
        Name = OrphanName(orphans.AnchorKey),
        Key = orphans.AnchorKey,
        SegmentIds = orphans.SegmentIds.ToArray(),
        Capacity = orphans.Bytes,
        BytesUsed = orphans.Bytes,
        Entries = orphans.Entries,
        Generation = orphans.Generation,
        Permissions = "rw-------",
        Owner = Environment.UserName,
        OwnerUid = orphans.OwnerUid,
        Orphaned = true,
        Warnings =
        [
            $"The store's anchor segment (key 0x{orphans.AnchorKey:x8}) is gone, removed by hand (ipcrm) or by systemd-logind: " +
            $"nothing can reach the {orphans.Entries} stacks left in these segments. Remove-MemStore -Name '{OrphanName(orphans.AnchorKey)}' frees them.",
        ],
    };

    internal static string OrphanName(int anchorKey) => OrphanPrefix + anchorKey.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The anchor key an 'orphaned:xxxxxxxx' name stands for; false for any other name.</summary>
    internal static bool TryParseOrphanName(string name, out int anchorKey)
    {
        anchorKey = 0;
        return name.StartsWith(OrphanPrefix, StringComparison.Ordinal) && name.Length == OrphanPrefix.Length + 8
            && int.TryParse(name.AsSpan(OrphanPrefix.Length), System.Globalization.NumberStyles.AllowHexSpecifier,
                System.Globalization.CultureInfo.InvariantCulture, out anchorKey);
    }

    /// <summary>A store object that carries only its name (what a deserialised one is turned back into for binding).</summary>
    internal static MemStoreInfo Named(string name, bool orphaned) => new()
    {
        Name = name,
        SegmentIds = [],
        Permissions = string.Empty,
        Owner = string.Empty,
        Warnings = [],
        Orphaned = orphaned,
    };

    public override string ToString() => Name;
}
