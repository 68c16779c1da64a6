using System;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Memalloc.TestHost;

/// <summary>
/// Values that carry their own proof of integrity, so that a reader in any process can tell a torn, mixed,
/// misplaced or invented value from a real one without knowing what was written:
/// <code>
///  0  u32 magic 'MAPL'     4  i32 total length     8  i32 writer id   12  i32 zero
/// 16  i64 writer sequence 24  u64 XxHash64(name)  32  body: a stream derived from (writer, sequence, name)
/// len-8  u64 XxHash64 of every byte before it
/// </code>
/// The body is regenerated and compared, not only hashed: a value that hashes right but was never written
/// (a record from another name, an old generation's bytes) still fails.
/// Shared by the test host and the tests (linked into both).
/// </summary>
internal static class Payload
{
    internal const int MinLength = 40;
    private const uint Magic = 0x4C50414D;

    internal static ulong NameHash(string name) => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(name));

    internal static byte[] Create(string name, int writerId, long sequence, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, MinLength);
        var value = new byte[length];
        var span = value.AsSpan();
        var nameHash = NameHash(name);
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], length);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], writerId);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(span[24..], nameHash);
        FillBody(span[32..(length - 8)], writerId, sequence, nameHash);
        BinaryPrimitives.WriteUInt64LittleEndian(span[(length - 8)..], XxHash64.HashToUInt64(span[..(length - 8)]));
        return value;
    }

    /// <summary>The trailing hash as the writer acknowledges it and the checker compares it.</summary>
    internal static string HashText(ReadOnlySpan<byte> value) =>
        value.Length < 8 ? "-" : BinaryPrimitives.ReadUInt64LittleEndian(value[^8..]).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Null when the value is a genuine payload written for this name; otherwise what is wrong with it.</summary>
    internal static string? Check(string name, ReadOnlySpan<byte> value, out int writerId, out long sequence)
    {
        writerId = -1;
        sequence = -1;
        if (value.Length < MinLength)
        {
            return $"length {value.Length} below the minimum {MinLength}";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(value) != Magic)
        {
            return "bad magic";
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(value[4..]);
        if (length != value.Length)
        {
            return $"embedded length {length} but {value.Length} bytes read";
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(value[(length - 8)..]) != XxHash64.HashToUInt64(value[..(length - 8)]))
        {
            return "checksum mismatch";
        }

        writerId = BinaryPrimitives.ReadInt32LittleEndian(value[8..]);
        sequence = BinaryPrimitives.ReadInt64LittleEndian(value[16..]);
        var nameHash = BinaryPrimitives.ReadUInt64LittleEndian(value[24..]);
        if (nameHash != NameHash(name))
        {
            return $"value belongs to another name (writer {writerId}, sequence {sequence})";
        }

        var expected = new byte[length - MinLength];
        FillBody(expected, writerId, sequence, nameHash);
        if (!value[32..(length - 8)].SequenceEqual(expected))
        {
            return $"body differs from what writer {writerId} wrote at sequence {sequence}";
        }

        return null;
    }

    private static void FillBody(Span<byte> body, int writerId, long sequence, ulong nameHash)
    {
        // xorshift64*: cheap, and different for every (writer, sequence, name).
        var state = nameHash ^ ((ulong)(uint)writerId << 40) ^ (ulong)sequence ^ 0x9E3779B97F4A7C15UL;
        if (state == 0)
        {
            state = 1;
        }

        for (var i = 0; i < body.Length; i++)
        {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            body[i] = (byte)((state * 0x2545F4914F6CDD1DUL) >> 56);
        }
    }
}
