using System;

namespace Memalloc.Core.Snapshots;

/// <summary>
/// One queue as a snapshot holds it (its items come one by one after it, as <see cref="SnapshotQueueItem"/>s, so that
/// no one needs a whole queue in memory): its name, its head's times, and how many items follow with how many bytes.
/// The name span belongs to whoever produced the queue (a reader's buffer, a store copy's memory), as for
/// <see cref="SnapshotStack"/>. Times are Unix milliseconds (UTC).
/// </summary>
public readonly ref struct SnapshotQueue
{
    public SnapshotQueue(ReadOnlySpan<byte> name, long createdMs, long modifiedMs, long itemCount, long itemBytes, long itemTypeNameBytes)
    {
        Name = name;
        CreatedMs = createdMs;
        ModifiedMs = modifiedMs;
        ItemCount = itemCount;
        ItemBytes = itemBytes;
        ItemTypeNameBytes = itemTypeNameBytes;
    }

    /// <summary>The queue's name, UTF-8 (1 to 255 bytes; stacks and queues share one namespace).</summary>
    public ReadOnlySpan<byte> Name { get; }

    /// <summary>The first write of the queue's head.</summary>
    public long CreatedMs { get; }

    /// <summary>The last send or receive.</summary>
    public long ModifiedMs { get; }

    /// <summary>Items that follow, oldest first.</summary>
    public long ItemCount { get; }

    /// <summary>Sum of the items' value lengths.</summary>
    public long ItemBytes { get; }

    /// <summary>Sum of the items' type name lengths (what a writer needs, with the other two, to know the record's length
    /// before it writes the first item).</summary>
    public long ItemTypeNameBytes { get; }

    public string NameText => System.Text.Encoding.UTF8.GetString(Name);

    /// <summary>Throws InvalidArgument when a time is out of the range a store keeps (a backend's check before it writes
    /// the queue).</summary>
    public void EnsureWritable()
    {
        if (!SnapshotFormat.IsValidTime(CreatedMs) || !SnapshotFormat.IsValidTime(ModifiedMs))
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"Queue '{NameText}' has a time out of range.");
        }
    }

    /// <summary>The queue's metadata as Get-MemStackInfo reports it, once written into <paramref name="store"/> with all
    /// its items, the last write's version being <paramref name="version"/>.</summary>
    public StackInfo ToInfo(string store, long version) => new()
    {
        Name = NameText,
        Store = store,
        Kind = StackKind.Queue,
        Count = ItemCount,
        Size = ItemBytes,
        Encoding = ValueEncoding.Raw,
        Created = Heap.FromUnixMs(CreatedMs),
        Modified = Heap.FromUnixMs(ModifiedMs),
        Version = version,
    };
}

/// <summary>One item of a <see cref="SnapshotQueue"/>: the bytes as they were sent (CliXml from Send-MemQueue) and the
/// type name the sender gave. The spans are valid until the producer hands out the next item.</summary>
public readonly ref struct SnapshotQueueItem
{
    public SnapshotQueueItem(ReadOnlySpan<byte> typeName, ReadOnlySpan<byte> value)
    {
        TypeName = typeName;
        Value = value;
    }

    /// <summary>UTF-8; empty when the sender gave none.</summary>
    public ReadOnlySpan<byte> TypeName { get; }

    public ReadOnlySpan<byte> Value { get; }

    public string? TypeNameText => TypeName.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(TypeName);

    /// <summary>Throws InvalidArgument when the type name is longer than a store keeps (a backend's check before it writes
    /// the item into <paramref name="queue"/>).</summary>
    public void EnsureWritable(in SnapshotQueue queue)
    {
        if (TypeName.Length > Layout.MaxTypeNameBytes)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"An item of queue '{queue.NameText}' has a type name too long.");
        }
    }
}
