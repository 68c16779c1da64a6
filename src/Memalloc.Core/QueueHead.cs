using System;
using System.Buffers.Binary;

namespace Memalloc.Core;

/// <summary>
/// The value of a queue's head record (docs/store-format.md §12): the queue holds items numbered
/// <see cref="First"/> to <see cref="Next"/> − 1, whose values take <see cref="Bytes"/> bytes.
/// </summary>
internal readonly record struct QueueHead(long First, long Next, long Bytes)
{
    internal const int Size = 32;

    internal long Count => Next - First;

    internal void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, First);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], Next);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], Bytes);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], 0);
    }

    /// <summary>Reads a head value; null when it breaks the format (wrong length, <c>first &gt; next</c>, negative bytes,
    /// reserved bytes set).</summary>
    internal static QueueHead? TryRead(ReadOnlySpan<byte> value)
    {
        if (value.Length != Size)
        {
            return null;
        }

        var head = new QueueHead(
            BinaryPrimitives.ReadInt64LittleEndian(value),
            BinaryPrimitives.ReadInt64LittleEndian(value[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(value[16..]));
        return head.First <= head.Next && head.Bytes >= 0 && BinaryPrimitives.ReadInt64LittleEndian(value[24..]) == 0 ? head : null;
    }
}
