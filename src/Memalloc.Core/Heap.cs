using System;
using System.IO.Hashing;
using System.Text;
using System.Threading;

namespace Memalloc.Core;

/// <summary>
/// Records in the heap: written once past the bump pointer, never modified afterwards while their arena keeps its
/// generation. Every read of a record starts from <see cref="TryReadShape"/>: offsets and lengths come from shared
/// memory and are never trusted, and a length is read once, checked, and only that copy is used (a recycle may
/// rewrite the bytes under a lock-free reader, so a second read could give a length that was never checked).
/// Checksum: XxHash3-64 (seed 0) of the record bytes [8, valueOffset + valueLength): everything after the checksum
/// field, padding (always zero) included. One hash call per small record; large values are hashed on the reader's copy.
/// A process checks a record's checksum once per arena generation (<see cref="VerifiedRecords"/>).
/// </summary>
internal static unsafe class Heap
{
    /// <summary>The record's total size when its header is plausible and it lies wholly inside the arena; else -1.</summary>
    internal static long CheckRecord(ArenaView view, long offset) => TryReadShape(view, offset, out var shape) ? shape.Size : -1;

    /// <summary>Reads a record's lengths once and checks that the whole record lies inside the arena.</summary>
    internal static bool TryReadShape(ArenaView view, long offset, out RecordShape shape)
    {
        shape = default;
        if (offset < view.HeapOffset || (offset & 7) != 0 || offset > view.Capacity - Layout.RecordHeaderSize)
        {
            return false;
        }

        // Volatile: each field is loaded exactly once, so what is checked here is what the caller uses.
        var record = view.Address + offset;
        int nameLength = Volatile.Read(ref record[Layout.RecordNameLengthOffset]);
        int typeNameLength = Volatile.Read(ref *(ushort*)(record + Layout.RecordTypeNameLengthOffset));
        var valueLength = Volatile.Read(ref *(long*)(record + Layout.RecordValueLengthOffset));
        if (Volatile.Read(ref *(uint*)(record + Layout.RecordMagicOffset)) != Layout.RecordMagic || nameLength == 0
            || typeNameLength > Layout.MaxTypeNameBytes || valueLength < 0 || valueLength > view.Capacity)
        {
            return false;
        }

        shape = new RecordShape(nameLength, typeNameLength, valueLength);
        return offset + shape.Size <= view.Capacity;
    }

    private static RecordShape ShapeOrThrow(ArenaView view, long offset) => TryReadShape(view, offset, out var shape)
        ? shape
        : throw Corrupt(view, offset, "an index slot points at something that is not a valid record");

    internal static MemStoreException Corrupt(ArenaView view, long offset, string what) => new(MemStoreErrorKind.Corrupt,
        $"The store is corrupt: {what} (record at offset {offset} of arena generation {view.Generation}). Nothing past the fault was read; run Verify, or remove the store.");

    /// <summary>True when the record at <paramref name="offset"/> carries this name; throws Corrupt for a broken record.</summary>
    internal static bool NameEquals(ArenaView view, long offset, ReadOnlySpan<byte> name)
    {
        var shape = ShapeOrThrow(view, offset);
        return shape.NameLength == name.Length
            && new ReadOnlySpan<byte>(view.Address + offset + Layout.RecordNameOffset, name.Length).SequenceEqual(name);
    }

    internal static long Size(ArenaView view, long offset)
    {
        var record = view.Address + offset;
        return Layout.RecordSize(record[Layout.RecordNameLengthOffset], *(ushort*)(record + Layout.RecordTypeNameLengthOffset), *(long*)(record + Layout.RecordValueLengthOffset));
    }

    internal static long Version(ArenaView view, long offset) => *(long*)(view.Address + offset + Layout.RecordVersionOffset);

    /// <summary>What the record is (its encoding byte, docs/store-format.md §4.3).</summary>
    internal static RecordKind Kind(ArenaView view, long offset) => (RecordKind)view.Address[offset + Layout.RecordEncodingOffset];

    internal static long Created(ArenaView view, long offset) => *(long*)(view.Address + offset + Layout.RecordCreatedOffset);

    internal static long Expires(ArenaView view, long offset) => *(long*)(view.Address + offset + Layout.RecordExpiresOffset);

    /// <summary>Expired for readers at and after its expiry time; the clock is read only for records that have one.</summary>
    internal static bool IsExpired(ArenaView view, long offset)
    {
        var expires = Expires(view, offset);
        return expires != 0 && StoreClock.NowMs() >= expires;
    }

    internal static bool IsExpired(ArenaView view, long offset, long nowMs)
    {
        var expires = Expires(view, offset);
        return expires != 0 && nowMs >= expires;
    }

    /// <summary>Writes a complete record at <paramref name="offset"/> (past the bump pointer: nobody can see it yet).</summary>
    internal static void Write(ArenaView view, long offset, ReadOnlySpan<byte> name, ulong nameHash, ReadOnlySpan<byte> typeName, ReadOnlySpan<byte> value,
        RecordKind kind, long version, long created, long modified, long expires) =>
        WriteAt(view.Address + offset, name, nameHash, typeName, value, kind, version, created, modified, expires);

    /// <summary>Writes a complete record at <paramref name="record"/>, which has <see cref="Layout.RecordSize"/> bytes: in
    /// an arena, or in a snapshot's own memory.</summary>
    internal static void WriteAt(byte* record, ReadOnlySpan<byte> name, ulong nameHash, ReadOnlySpan<byte> typeName, ReadOnlySpan<byte> value,
        RecordKind kind, long version, long created, long modified, long expires)
    {
        *(uint*)(record + Layout.RecordMagicOffset) = Layout.RecordMagic;
        record[Layout.RecordEncodingOffset] = (byte)kind;
        record[Layout.RecordNameLengthOffset] = (byte)name.Length;
        *(ushort*)(record + Layout.RecordTypeNameLengthOffset) = (ushort)typeName.Length;
        *(long*)(record + Layout.RecordValueLengthOffset) = value.Length;
        *(long*)(record + Layout.RecordVersionOffset) = version;
        *(long*)(record + Layout.RecordCreatedOffset) = created;
        *(long*)(record + Layout.RecordModifiedOffset) = modified;
        *(long*)(record + Layout.RecordExpiresOffset) = expires;
        *(ulong*)(record + Layout.RecordNameHashOffset) = nameHash;
        name.CopyTo(new Span<byte>(record + Layout.RecordNameOffset, name.Length));
        typeName.CopyTo(new Span<byte>(record + Layout.RecordNameOffset + name.Length, typeName.Length));
        var valueOffset = Layout.ValueOffset(name.Length, typeName.Length);
        // Zero the padding so that a record's bytes are fully determined (Verify and other readers see no stale data).
        new Span<byte>(record + Layout.RecordNameOffset + name.Length + typeName.Length, (int)(valueOffset - Layout.RecordNameOffset - name.Length - typeName.Length)).Clear();
        var valueTarget = record + valueOffset;
        fixed (byte* source = value)
        {
            Buffer.MemoryCopy(source, valueTarget, value.Length, value.Length);
        }

        var padding = (int)(Layout.Align8(value.Length) - value.Length);
        new Span<byte>(valueTarget + value.Length, padding).Clear();
        *(ulong*)(record + Layout.RecordChecksumOffset) = Checksum(record, name.Length, typeName.Length, value.Length);
    }

    /// <summary>Values up to this size are hashed in place in one call; larger ones are copied first and hashed on the
    /// copy while it is hot in cache (streaming over the header part, then the copy: the same XXH3 result).</summary>
    private const int InPlaceHashLimit = 64 * 1024;

    /// <summary>XXH3-64 of the record's bytes [8, valueOffset + valueLength): header fields after the checksum, name,
    /// type name, zero padding and value, hashed where they lie.</summary>
    internal static ulong Checksum(byte* record, int nameLength, int typeNameLength, long valueLength)
    {
        var length = Layout.ValueOffset(nameLength, typeNameLength) - Layout.RecordMagicOffset + valueLength;
        if (length <= int.MaxValue)
        {
            return XxHash3.HashToUInt64(new ReadOnlySpan<byte>(record + Layout.RecordMagicOffset, (int)length));
        }

        var hash = new XxHash3();
        for (long done = 0; done < length;)
        {
            var chunk = (int)Math.Min(1 << 30, length - done);
            hash.Append(new ReadOnlySpan<byte>(record + Layout.RecordMagicOffset + done, chunk));
            done += chunk;
        }

        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>Copies the value out into a private array (see <see cref="CopyChecked"/>).</summary>
    internal static byte[] ReadValue(ArenaView view, long offset)
    {
        var shape = ShapeOrThrow(view, offset);
        if (shape.ValueLength > Array.MaxLength)
        {
            throw Corrupt(view, offset, "a value length larger than any array");
        }

        var value = GC.AllocateUninitializedArray<byte>((int)shape.ValueLength);
        CopyChecked(view, offset, shape, value);
        return value;
    }

    /// <summary>As <see cref="ReadValue"/>, into a caller's buffer of at least the value's length (no allocation:
    /// the path that runs at memory bandwidth for large values). Returns the value's length; when the buffer is too
    /// small, copies nothing and returns the length needed.</summary>
    internal static long CopyValue(ArenaView view, long offset, Span<byte> destination)
    {
        var shape = ShapeOrThrow(view, offset);
        if (shape.ValueLength <= destination.Length)
        {
            CopyChecked(view, offset, shape, destination[..(int)shape.ValueLength]);
        }

        return shape.ValueLength;
    }

    /// <summary>The value's length, as <see cref="TryReadShape"/> checked it.</summary>
    internal static long ValueLength(ArenaView view, long offset) => ShapeOrThrow(view, offset).ValueLength;

    /// <summary>
    /// Copies the value into <paramref name="target"/> (exactly its length) and checks the record's checksum, unless this
    /// process has checked it before in this arena generation (<see cref="VerifiedRecords"/>; docs/store-design.md, "Where
    /// the checksum is checked"). A mismatch means corruption, unless the caller then finds the arena recycled (it
    /// re-checks the generation and retries); a record is marked only once its checksum matched.
    /// </summary>
    private static void CopyChecked(ArenaView view, long offset, in RecordShape shape, Span<byte> target)
    {
        var record = view.Address + offset;
        var source = new ReadOnlySpan<byte>(record + shape.ValueOffset, target.Length);
        if (view.Verified.Contains(offset))
        {
            source.CopyTo(target);
            return;
        }

        ulong checksum;
        if (target.Length <= InPlaceHashLimit)
        {
            checksum = Checksum(record, shape.NameLength, shape.TypeNameLength, target.Length);
            source.CopyTo(target);
        }
        else
        {
            checksum = CopyAndHash(record, shape.ValueOffset, target);
        }

        if (checksum != *(ulong*)(record + Layout.RecordChecksumOffset))
        {
            throw Corrupt(view, offset, "a record's checksum does not match its contents");
        }

        view.Verified.Add(offset);
    }

    /// <summary>Copies a large value out in chunks and hashes each chunk of the copy right after copying it, while it is
    /// in L1/L2: one pass over shared memory instead of two. Returns the record's checksum as computed from the copy.</summary>
    private static ulong CopyAndHash(byte* record, long valueOffset, Span<byte> target)
    {
        const int Chunk = 32 * 1024;
        var hash = new XxHash3();
        hash.Append(new ReadOnlySpan<byte>(record + Layout.RecordMagicOffset, (int)(valueOffset - Layout.RecordMagicOffset)));
        var source = record + valueOffset;
        for (var done = 0; done < target.Length; done += Chunk)
        {
            var piece = target.Slice(done, Math.Min(Chunk, target.Length - done));
            new ReadOnlySpan<byte>(source + done, piece.Length).CopyTo(piece);
            hash.Append(piece);
        }

        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>The record's name bytes (a private copy).</summary>
    internal static byte[] ReadNameBytes(ArenaView view, long offset)
    {
        var shape = ShapeOrThrow(view, offset);
        return new ReadOnlySpan<byte>(view.Address + offset + Layout.RecordNameOffset, shape.NameLength).ToArray();
    }

    /// <summary>The metadata of a stack's record, or of a queue's head record (its item count and their bytes).</summary>
    internal static StackInfo ReadInfo(ArenaView view, long offset, string name, string store)
    {
        var shape = ShapeOrThrow(view, offset);
        var record = view.Address + offset;
        var expires = *(long*)(record + Layout.RecordExpiresOffset);
        var kind = (RecordKind)record[Layout.RecordEncodingOffset];
        var head = kind == RecordKind.QueueHead ? ReadQueueHead(view, offset) : default;
        return new StackInfo
        {
            Name = name,
            Store = store,
            Kind = kind == RecordKind.QueueHead ? StackKind.Queue : StackKind.Stack,
            Count = kind == RecordKind.QueueHead ? head.Count : 1,
            Size = kind == RecordKind.QueueHead ? head.Bytes : shape.ValueLength,
            TypeName = shape.TypeNameLength == 0 ? null
                : Encoding.UTF8.GetString(record + Layout.RecordNameOffset + shape.NameLength, shape.TypeNameLength),
            Encoding = kind == RecordKind.QueueHead ? ValueEncoding.Raw : (ValueEncoding)kind, // a queue's items: bytes as sent
            Created = FromUnixMs(*(long*)(record + Layout.RecordCreatedOffset)),
            Modified = FromUnixMs(*(long*)(record + Layout.RecordModifiedOffset)),
            Expires = expires == 0 ? null : FromUnixMs(expires),
            Version = *(long*)(record + Layout.RecordVersionOffset),
        };
    }

    /// <summary>The value of a queue's head record, checked (<see cref="QueueHead.TryRead"/>).</summary>
    internal static QueueHead ReadQueueHead(ArenaView view, long offset)
    {
        Span<byte> value = stackalloc byte[QueueHead.Size];
        return CopyValue(view, offset, value) == QueueHead.Size && QueueHead.TryRead(value) is { } head
            ? head
            : throw Corrupt(view, offset, "a queue's head record does not hold a valid head");
    }

    /// <summary>The record's type name (null when it has none).</summary>
    internal static string? ReadTypeName(ArenaView view, long offset)
    {
        var shape = ShapeOrThrow(view, offset);
        return shape.TypeNameLength == 0 ? null
            : Encoding.UTF8.GetString(view.Address + offset + Layout.RecordNameOffset + shape.NameLength, shape.TypeNameLength);
    }

    internal static DateTime FromUnixMs(long ms) =>
        DateTime.SpecifyKind(DateTime.UnixEpoch.AddMilliseconds(Math.Clamp(ms, 0, Layout.MaxUnixMilliseconds)), DateTimeKind.Utc);
}
