using System;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace Memalloc.Core;

/// <summary>
/// Names of the records that hold locks and queue items (docs/store-format.md §11 and §12). They are built from a
/// 128-bit hash of the user's name, so that lock and queue names can be as long as stack names (255 bytes) while the
/// record names stay within one byte's length, and they start with the record's kind byte, so that no user name can
/// collide with them.
/// </summary>
internal static class CoordinationRecords
{
    /// <summary>Bytes of XXH3-128, in its canonical (big-endian) form: the reference C library's
    /// XXH128_canonicalFromHash and .NET's <see cref="XxHash128.Hash(ReadOnlySpan{byte}, Span{byte}, long)"/> agree.</summary>
    internal const int NameHashLength = 16;

    /// <summary><c>0x04 ‖ XXH3_128(lock name)</c>.</summary>
    internal const int LockNameLength = 1 + NameHashLength;

    /// <summary><c>0x03 ‖ XXH3_128(queue name) ‖ item number (u64 big-endian)</c>.</summary>
    internal const int ItemNameLength = 1 + NameHashLength + sizeof(long);

    /// <summary>The lock record's name for the lock named <paramref name="lockName"/> (UTF-8).</summary>
    internal static void LockName(ReadOnlySpan<byte> lockName, Span<byte> destination)
    {
        destination[0] = (byte)RecordKind.Lock;
        XxHash128.Hash(lockName, destination.Slice(1, NameHashLength));
    }

    /// <summary>The hash that names every item of the queue <paramref name="queueName"/> (UTF-8).</summary>
    internal static void QueueNameHash(ReadOnlySpan<byte> queueName, Span<byte> destination) =>
        XxHash128.Hash(queueName, destination[..NameHashLength]);

    /// <summary>The record name of item <paramref name="number"/> of the queue whose <see cref="QueueNameHash"/> is given.
    /// Big-endian, so that a queue's items sort in their order.</summary>
    internal static void ItemName(ReadOnlySpan<byte> queueNameHash, long number, Span<byte> destination)
    {
        destination[0] = (byte)RecordKind.QueueItem;
        queueNameHash[..NameHashLength].CopyTo(destination[1..]);
        BinaryPrimitives.WriteInt64BigEndian(destination[(1 + NameHashLength)..], number);
    }

    /// <summary>Splits an item record's name; false when it does not have the shape of one.</summary>
    internal static bool TryParseItemName(ReadOnlySpan<byte> recordName, out ReadOnlySpan<byte> queueNameHash, out long number)
    {
        if (recordName.Length != ItemNameLength || recordName[0] != (byte)RecordKind.QueueItem)
        {
            queueNameHash = default;
            number = 0;
            return false;
        }

        queueNameHash = recordName.Slice(1, NameHashLength);
        number = BinaryPrimitives.ReadInt64BigEndian(recordName[(1 + NameHashLength)..]);
        return true;
    }

    /// <summary>True for a name only the store makes (its first byte is a record kind's control character): listings of
    /// stacks and queues skip it.</summary>
    internal static bool IsSystemName(ReadOnlySpan<byte> recordName) => recordName.Length > 0 && recordName[0] < 0x20;
}
