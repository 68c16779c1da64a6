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

    // One property per property of the core's StoreStatistics, with its meaning (tests/MemStackInfo.Tests.ps1 fails when
    // one is missing), and Orphaned for the orphaned segments Get-MemStore lists too.

    /// <inheritdoc cref="StoreStatistics.Name"/>
    public required string Name { get; init; }

    /// <inheritdoc cref="StoreStatistics.Backend"/>
    public string Backend { get; init; } = "SharedMemory";

    /// <inheritdoc cref="StoreStatistics.Server"/>
    public string? Server { get; init; }

    /// <inheritdoc cref="StoreStatistics.KeyPrefix"/>
    public string? KeyPrefix { get; init; }

    /// <inheritdoc cref="StoreStatistics.Key"/>
    public int Key { get; init; }

    /// <inheritdoc cref="StoreStatistics.SegmentIds"/>
    public required int[] SegmentIds { get; init; }

    /// <inheritdoc cref="StoreStatistics.ArenaBacking"/>
    public ArenaBacking ArenaBacking { get; init; }

    /// <inheritdoc cref="StoreStatistics.ArenaObjects"/>
    public string[] ArenaObjects { get; init; } = [];

    /// <inheritdoc cref="StoreStatistics.Capacity"/>
    public long Capacity { get; init; }

    /// <inheritdoc cref="StoreStatistics.MaxCapacity"/>
    public long MaxCapacity { get; init; }

    /// <inheritdoc cref="StoreStatistics.BytesUsed"/>
    public long BytesUsed { get; init; }

    /// <inheritdoc cref="StoreStatistics.BytesFree"/>
    public long BytesFree { get; init; }

    /// <inheritdoc cref="StoreStatistics.Entries"/>
    public long Entries { get; init; }

    /// <inheritdoc cref="StoreStatistics.ExpiredEntries"/>
    public long ExpiredEntries { get; init; }

    /// <inheritdoc cref="StoreStatistics.Generation"/>
    public long Generation { get; init; }

    /// <inheritdoc cref="StoreStatistics.Permissions"/>
    public required string Permissions { get; init; }

    /// <inheritdoc cref="StoreStatistics.Owner"/>
    public required string Owner { get; init; }

    /// <inheritdoc cref="StoreStatistics.OwnerUid"/>
    public int OwnerUid { get; init; }

    /// <inheritdoc cref="StoreStatistics.Waiters"/>
    public int Waiters { get; init; }

    /// <inheritdoc cref="StoreStatistics.WaitPrimitive"/>
    public WaitPrimitive WaitPrimitive { get; init; }

    /// <inheritdoc cref="StoreStatistics.Warnings"/> For orphaned segments: what is wrong with them.
    public required string[] Warnings { get; init; }

    /// <summary>True for segments of the user left without their store's anchor segment (removed by hand): nothing can
    /// reach their stacks, and Remove-MemStore frees them. <see cref="Name"/> is then 'orphaned:' and the anchor's
    /// key in hex, which no store can be called.</summary>
    public bool Orphaned { get; init; }

    internal const string OrphanPrefix = "orphaned:";

    internal static MemStoreInfo FromCore(StoreStatistics statistics) => new()
    {
        Name = statistics.Name,
        Backend = statistics.Backend,
        Server = statistics.Server,
        KeyPrefix = statistics.KeyPrefix,
        Key = statistics.Key,
        SegmentIds = statistics.SegmentIds.ToArray(),
        ArenaBacking = statistics.ArenaBacking,
        ArenaObjects = statistics.ArenaObjects.ToArray(),
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
        Waiters = statistics.Waiters,
        WaitPrimitive = statistics.WaitPrimitive,
        Warnings = statistics.Warnings.ToArray(),
    };

    /// <summary>One group of orphaned segments (those that named one anchor key), as Get-MemStore lists it.</summary>
    internal static MemStoreInfo FromOrphans(OrphanedSegments orphans) => new()
    {
        Name = OrphanName(orphans.AnchorKey),
        Key = orphans.AnchorKey,
        SegmentIds = orphans.SegmentIds.ToArray(),
        ArenaBacking = orphans.ObjectNames.Count > 0 ? ArenaBacking.Posix : ArenaBacking.SystemV,
        ArenaObjects = orphans.ObjectNames.ToArray(),
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
