using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace Memalloc.Core.Snapshots;

/// <summary>
/// A consistent snapshot of a store: a private copy of its live records, taken under the writer lock at one instant and
/// read after the lock is released (docs/snapshot-format.md, "Export"). The records' bytes are copied exactly as they
/// lie in the arena, into native memory (chunks of 4 MiB; a larger record gets one of its own), so the garbage
/// collector never sees the values and managed memory is 32 bytes per record. The chunks are reserved and their pages
/// touched before the lock is taken, because faulting fresh pages in costs several times the copy itself. Every
/// record is checked (shape and checksum) when it is handed out, as a reader checks what it copies from shared memory.
/// </summary>
public sealed unsafe class StoreSnapshot : IDisposable
{
    private const long ChunkSize = 4 << 20;
    private const int PageSize = 4096;

    private readonly List<(IntPtr Address, long Size)> _chunks = [];
    private readonly List<SpooledRecord> _records = [];
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

    /// <summary>Stacks in the snapshot.</summary>
    public int Count => _records.Count;

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
    /// Copies every record of <paramref name="view"/> that is live at <paramref name="nowMs"/> and whose name
    /// <paramref name="include"/> accepts (all when null). The caller holds the writer lock, so nothing it copies can
    /// change meanwhile; a record the index points at that is not a valid record is corruption, as for any reader.
    /// </summary>
    internal void CopyLive(ArenaView view, long nowMs, Func<string, bool>? include)
    {
        TakenAtMs = nowMs;
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

            // Stacks only: queues (heads, items) and held locks are not in snapshots (docs/coordination-design.md).
            if (Heap.IsExpired(view, offset, nowMs) || Heap.Kind(view, offset) > RecordKind.CliXml)
            {
                continue;
            }

            var record = view.Address + offset;
            if (include is null || include(Encoding.UTF8.GetString(record + Layout.RecordNameOffset, shape.NameLength)))
            {
                Add(record, shape.Size);
            }
        }
    }

    private void Add(byte* record, long size)
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

        Buffer.MemoryCopy(record, _cursor, size, size);
        _records.Add(new SpooledRecord((IntPtr)_cursor, size));
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
    /// name first, as ordinal order does, and equal keys fall back to the whole names.</summary>
    private readonly record struct SpooledRecord(IntPtr Record, long Size, ulong Key0 = 0, ulong Key1 = 0)
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

    /// <summary>Record <paramref name="index"/> as a snapshot stack, after checking it as a reader would: lengths that
    /// add up to what was copied, a known encoding, and the checksum. The spans point into the snapshot's memory
    /// (valid until it is disposed).</summary>
    public SnapshotStack Get(int index)
    {
        var (address, size, _, _) = Sorted[index];
        var record = (byte*)address;
        int nameLength = record[Layout.RecordNameLengthOffset];
        int typeNameLength = *(ushort*)(record + Layout.RecordTypeNameLengthOffset);
        var valueLength = *(long*)(record + Layout.RecordValueLengthOffset);
        var encoding = (ValueEncoding)record[Layout.RecordEncodingOffset];
        if (nameLength == 0 || encoding is not (ValueEncoding.Raw or ValueEncoding.CliXml) || typeNameLength > Layout.MaxTypeNameBytes
            || valueLength < 0 || valueLength > Array.MaxLength || Layout.RecordSize(nameLength, typeNameLength, valueLength) != size
            || Heap.Checksum(record, nameLength, typeNameLength, valueLength) != *(ulong*)(record + Layout.RecordChecksumOffset))
        {
            throw new MemStoreException(MemStoreErrorKind.Corrupt,
                $"The store is corrupt: the record of stack '{Encoding.UTF8.GetString(Name(record))}' does not match its checksum. "
                + "The snapshot was not written; run Test-MemStore, or remove the store.");
        }

        var typeName = new ReadOnlySpan<byte>(record + Layout.RecordNameOffset + nameLength, typeNameLength);
        return new SnapshotStack(Name(record), typeName, new ReadOnlySpan<byte>(record + Layout.ValueOffset(nameLength, typeNameLength), (int)valueLength),
            encoding, *(long*)(record + Layout.RecordCreatedOffset), *(long*)(record + Layout.RecordModifiedOffset), *(long*)(record + Layout.RecordExpiresOffset));
    }

    /// <summary>The name of stack <paramref name="index"/> (names ascend with the index).</summary>
    public string NameAt(int index) => Encoding.UTF8.GetString(Name((byte*)Sorted[index].Record));

    public void Dispose()
    {
        foreach (var (address, _) in _chunks)
        {
            NativeMemory.Free((void*)address);
        }

        _chunks.Clear();
        _records.Clear();
        _left = 0;
    }
}
