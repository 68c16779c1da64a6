using System;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Text;

namespace Memalloc.Core.Snapshots;

/// <summary>Snapshots built record by record, for a backend without an arena (Redis): stacks and queues laid out as a
/// shared-memory store's records, so that the same file comes out of either backend.</summary>
public sealed unsafe partial class StoreSnapshot
{
    /// <summary>An empty snapshot for a backend without an arena (Redis), filled with <see cref="Append"/> and given its
    /// instant with <see cref="CompleteAt"/> once the copy is known to be consistent.</summary>
    public static StoreSnapshot Create(string storeName) => new(storeName);

    /// <summary>Adds one stack, laid out as a store record (with its checksum), so that the file written from it is byte
    /// for byte what a shared-memory store with the same stacks gives.</summary>
    public void Append(in SnapshotStack stack)
    {
        if (stack.Name.Length is 0 or > Layout.MaxNameBytes || stack.TypeName.Length > Layout.MaxTypeNameBytes
            || stack.Encoding is not (ValueEncoding.Raw or ValueEncoding.CliXml))
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument,
                $"Stack '{stack.NameText}' has a name or type name of a length no store holds, or an unknown encoding.");
        }

        var size = Layout.RecordSize(stack.Name.Length, stack.TypeName.Length, stack.Value.Length);
        var record = Reserve(size);
        Heap.WriteAt(record, stack.Name, XxHash3.HashToUInt64(stack.Name), stack.TypeName, stack.Value, (RecordKind)stack.Encoding,
            version: 0, stack.CreatedMs, stack.ModifiedMs, stack.ExpiresMs);
        Commit(record, size, listed: true);
    }

    /// <summary>Adds one queue and its <paramref name="items"/> (type name, value; oldest first), laid out as a store's
    /// head and item records, so that the file written from it is byte for byte what a shared-memory store with the same
    /// queue gives.</summary>
    public void AppendQueue(ReadOnlySpan<byte> name, long createdMs, long modifiedMs, IReadOnlyList<(byte[] TypeName, byte[] Value)> items)
    {
        var nameText = Encoding.UTF8.GetString(name);
        long bytes = 0;
        foreach (var (typeName, value) in items)
        {
            if (typeName.Length > Layout.MaxTypeNameBytes)
            {
                throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"An item of queue '{nameText}' has a type name too long.");
            }

            bytes += value.Length;
        }

        if (name.Length is 0 or > Layout.MaxNameBytes)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"Queue '{nameText}' has a name of a length no store holds.");
        }

        Span<byte> headValue = stackalloc byte[QueueHead.Size];
        new QueueHead(1, 1 + items.Count, bytes).Write(headValue);
        var size = Layout.RecordSize(name.Length, 0, QueueHead.Size);
        var head = Reserve(size);
        Heap.WriteAt(head, name, XxHash3.HashToUInt64(name), default, headValue, RecordKind.QueueHead, version: 0, createdMs, modifiedMs, expires: 0);
        Commit(head, size, listed: true);
        _records[^1] = _records[^1] with { FirstItem = _items.Count, ItemCount = items.Count };
        QueueCount++;

        Span<byte> queueHash = stackalloc byte[CoordinationRecords.NameHashLength];
        Span<byte> itemName = stackalloc byte[CoordinationRecords.ItemNameLength];
        CoordinationRecords.QueueNameHash(name, queueHash);
        for (var i = 0; i < items.Count; i++)
        {
            var (typeName, value) = items[i];
            CoordinationRecords.ItemName(queueHash, 1 + i, itemName);
            var itemSize = Layout.RecordSize(itemName.Length, typeName.Length, value.Length);
            var item = Reserve(itemSize);
            Heap.WriteAt(item, itemName, XxHash3.HashToUInt64(itemName), typeName, value, RecordKind.QueueItem, version: 0, createdMs, modifiedMs, expires: 0);
            Commit(item, itemSize, listed: false);
            _items.Add(((IntPtr)item, itemSize));
        }
    }

    /// <summary>The instant a snapshot made with <see cref="Create"/> holds (Unix ms).</summary>
    public void CompleteAt(long takenAtMs) => TakenAtMs = takenAtMs;
}
