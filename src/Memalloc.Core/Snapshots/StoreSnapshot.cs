using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace Memalloc.Core.Snapshots;

/// <summary>
/// A consistent snapshot of a store: a private copy of its live records, taken under the writer lock at one instant
/// and read after the lock is released (docs/snapshot-format.md, "Export"): the records' bytes exactly as they lie in the arena, in native memory
/// (chunks of 4 MiB; a larger record gets one of its own), so the garbage collector never sees the values and managed
/// memory is 16 bytes per record. Every record is checked (shape and checksum) when it is handed out, as a reader
/// checks what it copies from shared memory.
/// </summary>
public sealed unsafe class StoreSnapshot : IDisposable
{
    private const long ChunkSize = 4 << 20;

    private readonly List<IntPtr> chunks = [];
    private readonly List<(IntPtr Record, long Size)> records = [];
    private byte* cursor;
    private long left;
    private bool sorted;

    private StoreSnapshot(string storeName, long takenAtMs)
    {
        StoreName = storeName;
        TakenAtMs = takenAtMs;
    }

    public string StoreName { get; }

    /// <summary>The instant the snapshot holds: the clock read under the writer lock, in Unix ms.</summary>
    public long TakenAtMs { get; }

    public DateTime TakenAt => Heap.FromUnixMs(TakenAtMs);

    /// <summary>Stacks in the snapshot.</summary>
    public int Count => records.Count;

    /// <summary>Bytes of the copied records (the store's record format: headers, names and values).</summary>
    public long Bytes { get; private set; }

    /// <summary>
    /// Copies every record of <paramref name="view"/> that is live at <paramref name="nowMs"/> and whose name
    /// <paramref name="include"/> accepts (all when null). The caller holds the writer lock, so nothing it copies can
    /// change meanwhile; a record the index points at that is not a valid record is corruption, as for any reader.
    /// </summary>
    internal static StoreSnapshot CopyLive(string storeName, ArenaView view, long nowMs, Func<string, bool>? include)
    {
        var spool = new StoreSnapshot(storeName, nowMs);
        try
        {
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

                if (Heap.IsExpired(view, offset, nowMs))
                {
                    continue;
                }

                var record = view.Address + offset;
                if (include is not null && !include(Encoding.UTF8.GetString(record + Layout.RecordNameOffset, shape.NameLength)))
                {
                    continue;
                }

                spool.Add(record, shape.Size);
            }

            return spool; // sorted on first use, after the caller has released the lock
        }
        catch
        {
            spool.Dispose();
            throw;
        }
    }

    private void Add(byte* record, long size)
    {
        if (size > left)
        {
            var chunk = Math.Max(ChunkSize, size);
            cursor = (byte*)NativeMemory.Alloc((nuint)chunk);
            chunks.Add((IntPtr)cursor);
            left = chunk;
        }

        Buffer.MemoryCopy(record, cursor, size, size);
        records.Add(((IntPtr)cursor, size));
        cursor += size;
        left -= size;
        Bytes += size;
    }

    /// <summary>The records in order of their name bytes, the order a snapshot file requires.</summary>
    private List<(IntPtr Record, long Size)> Sorted
    {
        get
        {
            if (!sorted)
            {
                records.Sort(static (a, b) => Name((byte*)a.Record).SequenceCompareTo(Name((byte*)b.Record)));
                sorted = true;
            }

            return records;
        }
    }

    private static ReadOnlySpan<byte> Name(byte* record) => new(record + Layout.RecordNameOffset, record[Layout.RecordNameLengthOffset]);

    /// <summary>Record <paramref name="index"/> as a snapshot stack, after checking it as a reader would: lengths that
    /// add up to what was copied, and the checksum. The spans point into the spool (valid until it is disposed).</summary>
    public SnapshotStack Get(int index)
    {
        var (address, size) = Sorted[index];
        var record = (byte*)address;
        int nameLength = record[Layout.RecordNameLengthOffset];
        int typeNameLength = *(ushort*)(record + Layout.RecordTypeNameLengthOffset);
        var valueLength = *(long*)(record + Layout.RecordValueLengthOffset);
        var encoding = (ValueEncoding)record[Layout.RecordEncodingOffset];
        if (nameLength == 0 || encoding is not (ValueEncoding.Raw or ValueEncoding.CliXml) || typeNameLength > Layout.MaxTypeNameBytes || valueLength < 0 || valueLength > Array.MaxLength
            || Layout.RecordSize(nameLength, typeNameLength, valueLength) != size
            || Heap.Checksum(record, nameLength, typeNameLength, valueLength) != *(ulong*)(record + Layout.RecordChecksumOffset))
        {
            throw new MemStoreException(MemStoreErrorKind.Corrupt,
                $"The store is corrupt: the record of stack '{Encoding.UTF8.GetString(Name(record))}' does not match its checksum. "
                + "The snapshot was not written; run Test-MemStore, or remove the store.");
        }

        var typeName = new ReadOnlySpan<byte>(record + Layout.RecordNameOffset + nameLength, typeNameLength);
        return new SnapshotStack(Name(record), typeName, new ReadOnlySpan<byte>(record + Layout.ValueOffset(nameLength, typeNameLength), (int)valueLength),
            encoding, *(long*)(record + Layout.RecordCreatedOffset),
            *(long*)(record + Layout.RecordModifiedOffset), *(long*)(record + Layout.RecordExpiresOffset));
    }

    /// <summary>The name of stack <paramref name="index"/> (names ascend with the index).</summary>
    public string NameAt(int index) => Encoding.UTF8.GetString(Name((byte*)Sorted[index].Record));

    public void Dispose()
    {
        foreach (var chunk in chunks)
        {
            NativeMemory.Free((void*)chunk);
        }

        chunks.Clear();
        records.Clear();
        left = 0;
    }
}
