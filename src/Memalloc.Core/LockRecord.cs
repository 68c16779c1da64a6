using System;
using System.Buffers.Binary;
using System.Text;

namespace Memalloc.Core;

/// <summary>
/// The value of a held lock's record (docs/store-format.md §11): the holding process (<see cref="Owner"/>, the writer
/// lock's word <c>startTimeToken &lt;&lt; 32 | pid</c>), the holder inside it (<see cref="Holder"/>, non-zero: a runspace),
/// and the lock's name. The record's version is the lock's fencing token; its modified time, since when it is held.
/// </summary>
internal readonly record struct LockRecord(ulong Owner, ulong Holder, string Name)
{
    internal const int HeaderSize = 24;

    internal static int SizeFor(int nameBytes) => HeaderSize + nameBytes;

    internal void Write(ReadOnlySpan<byte> nameUtf8, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Owner);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Holder);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)nameUtf8.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], 0);
        nameUtf8.CopyTo(destination[HeaderSize..]);
    }

    /// <summary>Reads a lock value; null when it breaks the format (too short, a name length that does not match, zero
    /// owner or holder, reserved bytes set, a name that is not UTF-8).</summary>
    internal static LockRecord? TryRead(ReadOnlySpan<byte> value)
    {
        if (value.Length < HeaderSize)
        {
            return null;
        }

        var owner = BinaryPrimitives.ReadUInt64LittleEndian(value);
        var holder = BinaryPrimitives.ReadUInt64LittleEndian(value[8..]);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(value[16..]);
        if (owner == 0 || holder == 0 || length != value.Length - HeaderSize || length is 0 or > Layout.MaxNameBytes
            || BinaryPrimitives.ReadUInt32LittleEndian(value[20..]) != 0)
        {
            return null;
        }

        try
        {
            return new LockRecord(owner, holder, new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(value[HeaderSize..]));
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
