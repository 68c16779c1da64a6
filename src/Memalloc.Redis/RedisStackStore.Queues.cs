using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using Memalloc.Core;
using StackExchange.Redis;

namespace Memalloc.Redis;

/// <summary>
/// Queues on a Redis store (docs/redis-design.md, "Queues"): a list of items and, in the name's hash, the queue's
/// metadata (k = 'q', version, count, bytes), changed together by one script per send and per receive. Every item is
/// signed as a value is; an item without a valid signature is handed out marked untrusted, never to be deserialised.
/// </summary>
public sealed partial class RedisStackStore
{
    private const byte ItemFormat = 1;

    public long Send(string queue, ReadOnlySpan<byte> item, string? typeName = null) =>
        Send(queue, item, typeName, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    /// <summary>A send stamped <paramref name="now"/> as the queue's Modified (an import keeps the snapshot's).</summary>
    private long Send(string queue, ReadOnlySpan<byte> item, string? typeName, long now)
    {
        MemStore.ValidateName(queue);
        RedisKey[] keys = [_keys.Stack(queue), _keys.Sequence, _keys.Names, _keys.Queue(queue)];
        RedisValue[] arguments = [EncodeItem(queue, item, typeName), item.Length, queue, _keys.Events.ToString(), now];
        var version = (long)Call(() => _database.ScriptEvaluate(CoordinationScripts.Send, keys, arguments));
        return version == -2 ? throw NameIsStack(queue) : version;
    }

    public IReadOnlyList<QueueItem> Receive(string queue, int maxCount)
    {
        MemStore.ValidateName(queue);
        if (maxCount < 1)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"At least one item must be asked for; it was {maxCount}.");
        }

        RedisKey[] keys = [_keys.Stack(queue), _keys.Sequence, _keys.Queue(queue)];
        RedisValue[] arguments = [maxCount, queue, _keys.Events.ToString(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()];
        var result = Call(() => _database.ScriptEvaluate(CoordinationScripts.Receive, keys, arguments));
        if (result.Resp2Type == ResultType.Integer)
        {
            throw NameIsStack(queue);
        }

        var taken = (RedisValue[])result!;
        var items = new List<QueueItem>(taken.Length);
        foreach (var item in taken)
        {
            items.Add(DecodeItem(queue, (byte[])item!));
        }

        return items;
    }

    public IReadOnlyList<QueueItem> Receive(string queue, int maxCount, TimeSpan timeout, CancellationToken cancellation)
    {
        IReadOnlyList<QueueItem> items = [];
        _ = WaitFor(queue, string.Empty, timeout, cancellation, (out TimeSpan recheckWithin) =>
        {
            recheckWithin = Timeout.InfiniteTimeSpan;
            items = Receive(queue, maxCount);
            return items.Count > 0;
        });
        return items;
    }

    /// <summary>[format][signature length][signature][type name length, u16 LE][type name][value]: what the receive script
    /// reads the value's length from.</summary>
    private byte[] EncodeItem(string queue, ReadOnlySpan<byte> value, string? typeName)
    {
        var type = Encoding.UTF8.GetBytes(typeName ?? string.Empty);
        if (type.Length > ushort.MaxValue)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"A type name of {type.Length} bytes is too long for a queue item.");
        }

        var signature = _signer?.SignItem(queue, typeName, value) ?? [];
        var item = new byte[4 + signature.Length + type.Length + value.Length];
        item[0] = ItemFormat;
        item[1] = (byte)signature.Length;
        signature.CopyTo(item, 2);
        BinaryPrimitives.WriteUInt16LittleEndian(item.AsSpan(2 + signature.Length), (ushort)type.Length);
        type.CopyTo(item, 4 + signature.Length);
        value.CopyTo(item.AsSpan(4 + signature.Length + type.Length));
        return item;
    }

    private QueueItem DecodeItem(string queue, byte[] item)
    {
        var signatureLength = item.Length >= 2 && item[0] == ItemFormat ? item[1] : -1;
        if (signatureLength < 0 || item.Length < 4 + signatureLength)
        {
            return new QueueItem { Data = [], Untrusted = true };
        }

        var typeLength = BinaryPrimitives.ReadUInt16LittleEndian(item.AsSpan(2 + signatureLength));
        if (item.Length < 4 + signatureLength + typeLength)
        {
            return new QueueItem { Data = [], Untrusted = true };
        }

        var typeName = typeLength == 0 ? null : Encoding.UTF8.GetString(item, 4 + signatureLength, typeLength);
        var value = item.AsSpan(4 + signatureLength + typeLength).ToArray();
        var trusted = _signer is null || _signer.IsValidItem(item.AsSpan(2, signatureLength), queue, typeName, value);
        return trusted ? new QueueItem { Data = value, TypeName = typeName } : new QueueItem { Data = [], Untrusted = true };
    }

    private MemStoreException NameIsStack(string name) => new(MemStoreErrorKind.NameIsStack,
        $"'{name}' in store '{Name}' is a stack, not a queue: a name is one or the other. Nothing was changed.");

    private MemStoreException NameIsQueue(string name) => new(MemStoreErrorKind.NameIsQueue,
        $"'{name}' in store '{Name}' is a queue, not a stack: use Send-MemQueue and Receive-MemQueue. Nothing was changed.");
}
