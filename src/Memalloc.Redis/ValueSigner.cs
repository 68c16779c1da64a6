using System;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Memalloc.Redis;

/// <summary>
/// HMAC-SHA256 over what makes a value what it is: the store, the name, the type name, the encoding, the expiry and the
/// bytes, each length-prefixed so that no two different tuples sign the same (docs/redis-design.md, "Signing").
/// </summary>
internal sealed class ValueSigner
{
    private const string Context = "memalloc-redis-v1";
    private const int ItemEncoding = -1;
    private readonly byte[] _key;
    private readonly byte[] _store;

    public ValueSigner(byte[] key, string storeName)
    {
        _key = key;
        _store = Encoding.UTF8.GetBytes(storeName);
    }

    public byte[] Sign(string name, string? typeName, int encoding, long expiresMs, ReadOnlySpan<byte> value)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        Append(hmac, Encoding.UTF8.GetBytes(Context));
        Append(hmac, _store);
        Append(hmac, Encoding.UTF8.GetBytes(name));
        Append(hmac, Encoding.UTF8.GetBytes(typeName ?? string.Empty));
        Span<byte> numbers = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(numbers, encoding);
        BinaryPrimitives.WriteInt64LittleEndian(numbers[4..], expiresMs);
        Append(hmac, numbers);
        Append(hmac, value);
        return hmac.GetHashAndReset();
    }

    /// <summary>Constant-time comparison with what the value should carry.</summary>
    public bool IsValid(ReadOnlySpan<byte> signature, string name, string? typeName, int encoding, long expiresMs, ReadOnlySpan<byte> value) =>
        signature.Length == 32 && CryptographicOperations.FixedTimeEquals(signature, Sign(name, typeName, encoding, expiresMs, value));

    /// <summary>A queue item's signature: over the queue's name, the type name and the bytes, with an encoding no value
    /// has (-1), so that a value's signature never passes for an item's, nor the other way round.</summary>
    public byte[] SignItem(string queue, string? typeName, ReadOnlySpan<byte> value) => Sign(queue, typeName, ItemEncoding, -1, value);

    public bool IsValidItem(ReadOnlySpan<byte> signature, string queue, string? typeName, ReadOnlySpan<byte> value) =>
        IsValid(signature, queue, typeName, ItemEncoding, -1, value);

    private static void Append(IncrementalHash hmac, ReadOnlySpan<byte> field)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, field.Length);
        hmac.AppendData(length);
        hmac.AppendData(field);
    }
}
