using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace Memalloc.Core.Snapshots;

/// <summary>
/// A consistent snapshot of a store: a private copy of its live stacks and queues, taken under the writer lock at one
/// instant and read after the lock is released (docs/snapshot-format.md, "Export"). The records' bytes (a queue's head
/// and its items) are copied exactly as they lie in the arena, into native memory (chunks of 4 MiB; a larger record gets
/// one of its own), so the garbage collector never sees the values and managed memory is 40 bytes per stack or queue
/// and 16 per queue item. Held locks are never copied: a lock belongs to a living holder. The chunks are reserved and
/// their pages touched before the lock is taken, because faulting fresh pages in costs several times the copy itself.
/// Every record is checked (shape and checksum) when it is handed out, as a reader checks what it copies from shared
/// memory.
/// </summary>
public sealed unsafe partial class StoreSnapshot : IDisposable
{
    private const long ChunkSize = 4 << 20;
    private const int PageSize = 4096;

    private readonly List<(IntPtr Address, long Size)> _chunks = [];
    private readonly List<SpooledRecord> _records = [];
    private readonly List<(IntPtr Record, long Size)> _items = [];
    private int _nextChunk;
    private byte* _cursor;
    private long _left;
    private bool _sorted;

    private StoreSnapshot(string storeName)
    {
        StoreName = storeName;
    }

    public string StoreName { get; }

    /// <summary>The instant the snapshot holds: the clock read under the writer lock, in Unix ms.</summary>
    public long TakenAtMs { get; private set; }

    public DateTime TakenAt => Heap.FromUnixMs(TakenAtMs);

    /// <summary>Stacks and queues in the snapshot (in name order: <see cref="NameAt"/>, <see cref="IsQueue"/>).</summary>
    public int Count => _records.Count;

    /// <summary>Queues among <see cref="Count"/>.</summary>
    public int QueueCount { get; private set; }

    /// <summary>Items of all the queues.</summary>
    public long QueueItemCount => _items.Count;

    /// <summary>Bytes of the copied records (the store's record format: headers, names and values).</summary>
    public long Bytes { get; private set; }

    /// <summary>An empty snapshot with about <paramref name="bytes"/> of memory ready (allocated, every page touched),
    /// for the copy to come: called before the writer lock is taken.</summary>
    internal static StoreSnapshot Reserve(string storeName, long bytes)
    {
        var snapshot = new StoreSnapshot(storeName);
        try
        {
            for (long reserved = 0; reserved < bytes; reserved += ChunkSize)
            {
                var chunk = snapshot.NewChunk(ChunkSize);
                for (long page = 0; page < ChunkSize; page += PageSize)
                {
                    chunk[page] = 0;
                }
            }

            return snapshot;
        }
        catch
        {
            snapshot.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies every stack and queue of <paramref name="view"/> that is live at <paramref name="nowMs"/> and whose name
    /// <paramref name="include"/> accepts (all when null): a stack's record; a queue's head record and then its items'
    /// records, oldest first. Held locks are left out. The caller holds the writer lock, so nothing it copies can change
    /// meanwhile; a record the index points at that is not a valid record, or a queue item its head counts that is not
    /// there, is corruption, as for any reader.
    /// </summary>
    internal void CopyLive(ArenaView view, long nowMs, Func<string, bool>? include)
    {
        TakenAtMs = nowMs;
        Span<byte> queueHash = stackalloc byte[CoordinationRecords.NameHashLength];
        Span<byte> itemName = stackalloc byte[CoordinationRecords.ItemNameLength];
        for (long i = 0; i < view.SlotCount; i++)
        {
            var word = view.Slots[i];
            if (!Index.HoldsRecord(word))
            {
                continue;
            }

            var offset = Index.OffsetOf(word);
            if (!Heap.TryReadShape(view, offset, out var shape))
            {
                throw Heap.Corrupt(view, offset, "an index slot points at something that is not a valid record");
            }

            // Stacks and queue heads carry the user's names; items come with their head, and locks never come.
            var kind = Heap.Kind(view, offset);
            if (Heap.IsExpired(view, offset, nowMs) || kind > RecordKind.QueueHead)
            {
                continue;
            }

            var record = view.Address + offset;
            var name = new ReadOnlySpan<byte>(record + Layout.RecordNameOffset, shape.NameLength);
            if (include is not null && !include(Encoding.UTF8.GetString(name)))
            {
                continue;
            }

            Add(record, shape.Size);
            if (kind == RecordKind.QueueHead)
            {
                var head = Heap.ReadQueueHead(view, offset);
                _records[^1] = _records[^1] with { FirstItem = _items.Count, ItemCount = checked((int)head.Count) };
                QueueCount++;
                CoordinationRecords.QueueNameHash(name, queueHash);
                for (var number = head.First; number < head.Next; number++)
                {
                    CoordinationRecords.ItemName(queueHash, number, itemName);
                    if (Index.Find(view, itemName, XxHash3.HashToUInt64(itemName), out var itemOffset, out _) < 0
                        || !Heap.TryReadShape(view, itemOffset, out var itemShape) || Heap.Kind(view, itemOffset) != RecordKind.QueueItem)
                    {
                        throw Heap.Corrupt(view, offset, $"item {number} of queue '{Encoding.UTF8.GetString(name)}' is missing");
                    }

                    _items.Add(((IntPtr)Add(view.Address + itemOffset, itemShape.Size, listed: false), itemShape.Size));
                }
            }
        }
    }

    /// <summary>Copies a record into the spool; returns where the copy lies. Stacks and queue heads are also listed for
    /// the sort (the caller keeps items apart).</summary>
    private byte* Add(byte* record, long size, bool listed = true)
    {
        var copy = Reserve(size);
        Buffer.MemoryCopy(record, copy, size, size);
        Commit(copy, size, listed);
        return copy;
    }

    /// <summary>Where the next record of <paramref name="size"/> bytes goes: in the current chunk, the next reserved one,
    /// or a new one.</summary>
    private byte* Reserve(long size)
    {
        while (size > _left)
        {
            if (_nextChunk < _chunks.Count && _chunks[_nextChunk].Size >= size)
            {
                (var address, _left) = _chunks[_nextChunk++];
                _cursor = (byte*)address;
            }
            else
            {
                // Past the reservation (the store grew since), or a record larger than a chunk: a chunk of its own.
                _cursor = NewChunk(Math.Max(ChunkSize, size));
                _nextChunk = _chunks.Count;
                _left = Math.Max(ChunkSize, size);
            }
        }

        return _cursor;
    }

    /// <summary>Takes the record just written at the cursor into the spool (and, when <paramref name="listed"/>, into the
    /// sorted list of stacks and queue heads).</summary>
    private void Commit(byte* record, long size, bool listed)
    {
        if (listed)
        {
            _records.Add(new SpooledRecord((IntPtr)record, size));
            _sorted = false;
        }

        _cursor += size;
        _left -= size;
        Bytes += size;
    }

    private byte* NewChunk(long size)
    {
        var chunk = (byte*)NativeMemory.Alloc((nuint)size);
        _chunks.Add(((IntPtr)chunk, size));
        return chunk;
    }

    /// <summary>The records in order of their name bytes, the order a snapshot file requires; sorted on first use,
    /// after the writer lock was released.</summary>
    private List<SpooledRecord> Sorted
    {
        get
        {
            if (!_sorted)
            {
                var records = CollectionsMarshal.AsSpan(_records);
                foreach (ref var record in records)
                {
                    record = record.WithSortKey();
                }

                records.Sort(default(NameOrder));
                _sorted = true;
            }

            return _records;
        }
    }

    private static ReadOnlySpan<byte> Name(byte* record) => new(record + Layout.RecordNameOffset, record[Layout.RecordNameLengthOffset]);

    /// <summary>Where a copied record lies, and the first 16 bytes of its name (big-endian, zero-padded) as a sort key:
    /// most comparisons then touch only this array, not two records at random places in 100 MiB of copies (which made
    /// the sort of 100,000 stacks cost as much as writing them). The order is still ordinal: zero padding puts a shorter
    /// name first, as ordinal order does, and equal keys fall back to the whole names. A queue's head also says which of
    /// the copied items are its own (<see cref="FirstItem"/>, then <see cref="ItemCount"/> of them, oldest first);
    /// <see cref="ItemCount"/> is -1 for a stack.</summary>
    private readonly record struct SpooledRecord(IntPtr Record, long Size, ulong Key0 = 0, ulong Key1 = 0, int FirstItem = 0, int ItemCount = -1)
    {
        public SpooledRecord WithSortKey()
        {
            Span<byte> prefix = stackalloc byte[2 * sizeof(ulong)];
            prefix.Clear();
            var name = Name((byte*)Record);
            name[..Math.Min(name.Length, prefix.Length)].CopyTo(prefix);
            return this with { Key0 = BinaryPrimitives.ReadUInt64BigEndian(prefix), Key1 = BinaryPrimitives.ReadUInt64BigEndian(prefix[sizeof(ulong)..]) };
        }
    }

    /// <summary>A struct comparer, so that the sort calls it directly (a delegate per comparison cost a third more).</summary>
    private readonly struct NameOrder : IComparer<SpooledRecord>
    {
        public int Compare(SpooledRecord x, SpooledRecord y) =>
            x.Key0 != y.Key0 ? x.Key0.CompareTo(y.Key0)
            : x.Key1 != y.Key1 ? x.Key1.CompareTo(y.Key1)
            : Name((byte*)x.Record).SequenceCompareTo(Name((byte*)y.Record));
    }

    /// <summary>Entry <paramref name="index"/> as a snapshot stack, after checking it as a reader would (<see cref="Checked"/>).
    /// The spans point into the snapshot's memory (valid until it is disposed).</summary>
    public SnapshotStack Get(int index)
    {
        var (address, size, _, _, _, itemCount) = Sorted[index];
        var record = (byte*)address;
        if (itemCount >= 0)
        {
            throw new InvalidOperationException($"'{NameAt(index)}' is a queue: GetQueue reads it.");
        }

        var (nameLength, typeNameLength, valueLength) = Checked(record, size, "stack", (RecordKind.Raw, RecordKind.CliXml));
        var encoding = (ValueEncoding)record[Layout.RecordEncodingOffset];
        var typeName = new ReadOnlySpan<byte>(record + Layout.RecordNameOffset + nameLength, typeNameLength);
        return new SnapshotStack(Name(record), typeName, new ReadOnlySpan<byte>(record + Layout.ValueOffset(nameLength, typeNameLength), (int)valueLength),
            encoding, *(long*)(record + Layout.RecordCreatedOffset), *(long*)(record + Layout.RecordModifiedOffset), *(long*)(record + Layout.RecordExpiresOffset));
    }

    /// <summary>True when entry <paramref name="index"/> is a queue.</summary>
    public bool IsQueue(int index) => Sorted[index].ItemCount >= 0;

    /// <summary>Entry <paramref name="index"/> as a snapshot queue: its head's times, and the count and lengths of its
    /// items (read from their copies' headers; each item is checked when <see cref="GetQueueItem"/> hands it out).</summary>
    public SnapshotQueue GetQueue(int index)
    {
        var (address, size, _, _, firstItem, itemCount) = Sorted[index];
        var record = (byte*)address;
        if (itemCount < 0)
        {
            throw new InvalidOperationException($"'{NameAt(index)}' is a stack: Get reads it.");
        }

        var (nameLength, typeNameLength, valueLength) = Checked(record, size, "queue", (RecordKind.QueueHead, RecordKind.QueueHead));
        var head = valueLength == QueueHead.Size ? QueueHead.TryRead(new ReadOnlySpan<byte>(record + Layout.ValueOffset(nameLength, typeNameLength), QueueHead.Size)) : null;
        if (head is not { } valid || valid.Count != itemCount)
        {
            throw CorruptRecord("queue", record);
        }

        long typeNameBytes = 0, itemBytes = 0;
        for (var i = firstItem; i < firstItem + itemCount; i++)
        {
            var item = (byte*)_items[i].Record;
            typeNameBytes += *(ushort*)(item + Layout.RecordTypeNameLengthOffset);
            itemBytes += *(long*)(item + Layout.RecordValueLengthOffset);
        }

        return new SnapshotQueue(Name(record), *(long*)(record + Layout.RecordCreatedOffset), *(long*)(record + Layout.RecordModifiedOffset),
            itemCount, itemBytes, typeNameBytes);
    }

    /// <summary>Item <paramref name="item"/> (0 = the oldest) of the queue at entry <paramref name="index"/>, checked as a
    /// reader would.</summary>
    public SnapshotQueueItem GetQueueItem(int index, int item)
    {
        var (_, _, _, _, firstItem, itemCount) = Sorted[index];
        if ((uint)item >= (uint)Math.Max(itemCount, 0))
        {
            throw new ArgumentOutOfRangeException(nameof(item));
        }

        var (address, size) = _items[firstItem + item];
        var record = (byte*)address;
        var (nameLength, typeNameLength, valueLength) = Checked(record, size, "queue item", (RecordKind.QueueItem, RecordKind.QueueItem));
        return new SnapshotQueueItem(new ReadOnlySpan<byte>(record + Layout.RecordNameOffset + nameLength, typeNameLength),
            new ReadOnlySpan<byte>(record + Layout.ValueOffset(nameLength, typeNameLength), (int)valueLength));
    }

    /// <summary>A copied record's lengths, after the checks a reader makes of what it copies from shared memory: lengths
    /// that add up to what was copied, one of the <paramref name="kinds"/> <paramref name="what"/> may have, and the
    /// checksum.</summary>
    private static (int NameLength, int TypeNameLength, long ValueLength) Checked(byte* record, long size, string what,
        (RecordKind Lowest, RecordKind Highest) kinds)
    {
        int nameLength = record[Layout.RecordNameLengthOffset];
        int typeNameLength = *(ushort*)(record + Layout.RecordTypeNameLengthOffset);
        var valueLength = *(long*)(record + Layout.RecordValueLengthOffset);
        var kind = (RecordKind)record[Layout.RecordEncodingOffset];
        if (nameLength == 0 || kind < kinds.Lowest || kind > kinds.Highest || typeNameLength > Layout.MaxTypeNameBytes
            || valueLength < 0 || valueLength > Array.MaxLength || Layout.RecordSize(nameLength, typeNameLength, valueLength) != size
            || Heap.Checksum(record, nameLength, typeNameLength, valueLength) != *(ulong*)(record + Layout.RecordChecksumOffset))
        {
            throw CorruptRecord(what, record);
        }

        return (nameLength, typeNameLength, valueLength);
    }

    private static MemStoreException CorruptRecord(string what, byte* record) => new(MemStoreErrorKind.Corrupt,
        $"The store is corrupt: the record of {what} '{DisplayName(record)}' does not match its checksum. "
        + "The snapshot was not written; run Test-MemStore, or remove the store.");

    /// <summary>An item's record name is the store's own (a hash and a number): show it as hex.</summary>
    private static string DisplayName(byte* record) => CoordinationRecords.IsSystemName(Name(record))
        ? Convert.ToHexString(Name(record)) : Encoding.UTF8.GetString(Name(record));

    /// <summary>Writes entry <paramref name="index"/> into <paramref name="writer"/>: a stack, or a queue with its items.
    /// Entries must be written in index order (the order of their names).</summary>
    public void WriteEntry(int index, SnapshotFileWriter writer)
    {
        if (!IsQueue(index))
        {
            writer.WriteStack(Get(index));
            return;
        }

        var queue = GetQueue(index);
        writer.WriteQueue(queue);
        for (var item = 0; item < queue.ItemCount; item++)
        {
            writer.WriteQueueItem(GetQueueItem(index, item));
        }
    }

    /// <summary>The name of stack or queue <paramref name="index"/> (names ascend with the index).</summary>
    public string NameAt(int index) => Encoding.UTF8.GetString(Name((byte*)Sorted[index].Record));

    public void Dispose()
    {
        foreach (var (address, _) in _chunks)
        {
            NativeMemory.Free((void*)address);
        }

        _chunks.Clear();
        _records.Clear();
        _items.Clear();
        _left = 0;
    }
}
