using System;

namespace Memalloc.Core.Snapshots;

/// <summary>
/// One stack as a snapshot holds it: the stored bytes and metadata, never a deserialised object. The spans belong to
/// whoever produced the record (a reader's buffers, a store copy's memory) and are valid until it produces the next.
/// Times are Unix milliseconds (UTC); <see cref="ExpiresMs"/> is 0 for a stack that never expires.
/// </summary>
public readonly ref struct SnapshotStack
{
    public SnapshotStack(ReadOnlySpan<byte> name, ReadOnlySpan<byte> typeName, ReadOnlySpan<byte> value, ValueEncoding encoding,
        long createdMs, long modifiedMs, long expiresMs)
    {
        Name = name;
        TypeName = typeName;
        Value = value;
        Encoding = encoding;
        CreatedMs = createdMs;
        ModifiedMs = modifiedMs;
        ExpiresMs = expiresMs;
    }

    /// <summary>The stack's name, UTF-8 (1 to 255 bytes).</summary>
    public ReadOnlySpan<byte> Name { get; }

    /// <summary>The stored root object's type name, UTF-8; empty when the writer gave none.</summary>
    public ReadOnlySpan<byte> TypeName { get; }

    /// <summary>The stored bytes, exactly as the store held them.</summary>
    public ReadOnlySpan<byte> Value { get; }

    public ValueEncoding Encoding { get; }

    public long CreatedMs { get; }

    public long ModifiedMs { get; }

    public long ExpiresMs { get; }

    public string NameText => System.Text.Encoding.UTF8.GetString(Name);

    /// <summary>The type name as text, or null when there is none.</summary>
    public string? TypeNameText => TypeName.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(TypeName);

    /// <summary>The stack's metadata as the store reports it, once written into <paramref name="store"/> as
    /// <paramref name="version"/>.</summary>
    public StackInfo ToInfo(string store, long version) => new()
    {
        Name = NameText,
        Store = store,
        Size = Value.Length,
        TypeName = TypeNameText,
        Encoding = Encoding,
        Created = Heap.FromUnixMs(CreatedMs),
        Modified = Heap.FromUnixMs(ModifiedMs),
        Expires = ExpiresMs == 0 ? null : Heap.FromUnixMs(ExpiresMs),
        Version = version,
    };

    /// <summary>Throws InvalidArgument when no store can hold the stack as it is: an unknown encoding, a type name too
    /// long, a time out of range. Every backend's restore checks this before it writes.</summary>
    public void EnsureWritable()
    {
        if (Encoding is not (ValueEncoding.Raw or ValueEncoding.CliXml) || TypeName.Length > Layout.MaxTypeNameBytes
            || !SnapshotFormat.IsValidTime(CreatedMs) || !SnapshotFormat.IsValidTime(ModifiedMs)
            || (ExpiresMs != 0 && !SnapshotFormat.IsValidTime(ExpiresMs)))
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument,
                $"Stack '{NameText}' has an unknown encoding, a type name too long or a time out of range.");
        }
    }

    /// <summary>Expired at <paramref name="nowMs"/>, by the store's rule (expired when now ≥ expires).</summary>
    public bool IsExpiredAt(long nowMs) => ExpiresMs != 0 && nowMs >= ExpiresMs;
}
