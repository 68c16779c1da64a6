using System;
using System.IO.Hashing;
using System.Text;

namespace Memalloc.Core;

/// <summary>
/// Records in the heap: written once past the bump pointer, never modified afterwards. Every read of a record goes
/// through <see cref="CheckRecord"/> first: offsets and lengths come from shared memory and are never trusted.
/// Checksum: XxHash3-64 of the value, seeded with XxHash3-64 of the record bytes [8, 64 + name + type name) (header
/// fields after the checksum, then name and type name), so the value can be hashed on the reader's private copy.
/// </summary>
internal static unsafe class Heap
{
    /// <summary>The record's total size when its header is plausible and it lies wholly inside the arena; else -1.</summary>
    internal static long CheckRecord(ArenaView view, long offset)
    {
        if (offset < view.HeapOffset || (offset & 7) != 0 || offset > view.Capacity - Layout.RecordHeaderSize)
        {
            return -1;
        }

        var record = view.Address + offset;
        var nameLength = record[Layout.RecordNameLengthOffset];
        var typeNameLength = *(ushort*)(record + Layout.RecordTypeNameLengthOffset);
        var valueLength = *(long*)(record + Layout.RecordValueLengthOffset);
        if (*(uint*)(record + Layout.RecordMagicOffset) != Layout.RecordMagic || nameLength == 0
            || typeNameLength > Layout.MaxTypeNameBytes || valueLength < 0 || valueLength > view.Capacity)
        {
            return -1;
        }

        var size = Layout.RecordSize(nameLength, typeNameLength, valueLength);
        return offset + size <= view.Capacity ? size : -1;
    }

    internal static MemStoreException Corrupt(ArenaView view, long offset, string what) => new(MemStoreErrorKind.Corrupt,
        $"The store is corrupt: {what} (record at offset {offset} of arena generation {view.Generation}). Nothing past the fault was read; run Verify, or remove the store.");

    /// <summary>True when the record at <paramref name="offset"/> carries this name; throws Corrupt for a broken record.</summary>
    internal static bool NameEquals(ArenaView view, long offset, ReadOnlySpan<byte> name)
    {
        if (CheckRecord(view, offset) < 0)
        {
            throw Corrupt(view, offset, "an index slot points at something that is not a valid record");
        }

        var record = view.Address + offset;
        return record[Layout.RecordNameLengthOffset] == name.Length
            && new ReadOnlySpan<byte>(record + Layout.RecordNameOffset, name.Length).SequenceEqual(name);
    }

    internal static long Size(ArenaView view, long offset)
    {
        var record = view.Address + offset;
        return Layout.RecordSize(record[Layout.RecordNameLengthOffset], *(ushort*)(record + Layout.RecordTypeNameLengthOffset), *(long*)(record + Layout.RecordValueLengthOffset));
    }

    internal static long Version(ArenaView view, long offset) => *(long*)(view.Address + offset + Layout.RecordVersionOffset);

    internal static long Created(ArenaView view, long offset) => *(long*)(view.Address + offset + Layout.RecordCreatedOffset);

    internal static long Expires(ArenaView view, long offset) => *(long*)(view.Address + offset + Layout.RecordExpiresOffset);

    /// <summary>Expired for readers at and after its expiry time; the clock is read only for records that have one.</summary>
    internal static bool IsExpired(ArenaView view, long offset)
    {
        var expires = Expires(view, offset);
        return expires != 0 && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() >= expires;
    }

    internal static bool IsExpired(ArenaView view, long offset, long nowMs)
    {
        var expires = Expires(view, offset);
        return expires != 0 && nowMs >= expires;
    }

    /// <summary>Writes a complete record at <paramref name="offset"/> (past the bump pointer: nobody can see it yet).</summary>
    internal static void Write(ArenaView view, long offset, ReadOnlySpan<byte> name, ulong nameHash, ReadOnlySpan<byte> typeName, ReadOnlySpan<byte> value,
        ValueEncoding encoding, long version, long created, long modified, long expires)
    {
        var record = view.Address + offset;
        *(uint*)(record + Layout.RecordMagicOffset) = Layout.RecordMagic;
        record[Layout.RecordEncodingOffset] = (byte)encoding;
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
        *(ulong*)(record + Layout.RecordChecksumOffset) = Checksum(record, name.Length, typeName.Length, value);
    }

    internal static ulong Checksum(byte* record, int nameLength, int typeNameLength, ReadOnlySpan<byte> value)
    {
        var headerAndNames = new ReadOnlySpan<byte>(record + Layout.RecordMagicOffset, Layout.RecordNameOffset - Layout.RecordMagicOffset + nameLength + typeNameLength);
        var seed = XxHash3.HashToUInt64(headerAndNames);
        return XxHash3.HashToUInt64(value, unchecked((long)seed));
    }

    /// <summary>Copies the value out (first, into a private array) and verifies the checksum on the copy while it is
    /// hot in cache. The record was checked by <see cref="CheckRecord"/> (through the index lookup).</summary>
    internal static byte[] ReadValue(ArenaView view, long offset)
    {
        var record = view.Address + offset;
        int nameLength = record[Layout.RecordNameLengthOffset];
        int typeNameLength = *(ushort*)(record + Layout.RecordTypeNameLengthOffset);
        var length = *(long*)(record + Layout.RecordValueLengthOffset);
        if (length > Array.MaxLength)
        {
            throw Corrupt(view, offset, "a value length larger than any array");
        }

        var value = GC.AllocateUninitializedArray<byte>((int)length);
        fixed (byte* target = value)
        {
            Buffer.MemoryCopy(record + Layout.ValueOffset(nameLength, typeNameLength), target, length, length);
        }

        if (Checksum(record, nameLength, typeNameLength, value) != *(ulong*)(record + Layout.RecordChecksumOffset))
        {
            throw Corrupt(view, offset, "a record's checksum does not match its contents");
        }

        return value;
    }

    internal static string ReadName(ArenaView view, long offset)
    {
        var record = view.Address + offset;
        return Encoding.UTF8.GetString(record + Layout.RecordNameOffset, record[Layout.RecordNameLengthOffset]);
    }

    internal static StackInfo ReadInfo(ArenaView view, long offset, string name, string store)
    {
        var record = view.Address + offset;
        int nameLength = record[Layout.RecordNameLengthOffset];
        int typeNameLength = *(ushort*)(record + Layout.RecordTypeNameLengthOffset);
        var expires = *(long*)(record + Layout.RecordExpiresOffset);
        return new StackInfo
        {
            Name = name,
            Store = store,
            Size = *(long*)(record + Layout.RecordValueLengthOffset),
            TypeName = typeNameLength == 0 ? null : Encoding.UTF8.GetString(record + Layout.RecordNameOffset + nameLength, typeNameLength),
            Encoding = (ValueEncoding)record[Layout.RecordEncodingOffset],
            Created = FromUnixMs(*(long*)(record + Layout.RecordCreatedOffset)),
            Modified = FromUnixMs(*(long*)(record + Layout.RecordModifiedOffset)),
            Expires = expires == 0 ? null : FromUnixMs(expires),
            Version = *(long*)(record + Layout.RecordVersionOffset),
        };
    }

    internal static DateTime FromUnixMs(long ms) =>
        DateTime.SpecifyKind(DateTime.UnixEpoch.AddMilliseconds(Math.Clamp(ms, 0, 253402300799999L)), DateTimeKind.Utc);
}
