using StackExchange.Redis;

namespace Memalloc.Redis;

/// <summary>The keys of one store, all under the hash tag {store} so that a script may touch several of them on a
/// cluster (docs/redis-design.md, "Key layout").</summary>
internal sealed class StoreKeys
{
    private readonly string _queuePrefix;
    private readonly string _lockPrefix;

    public StoreKeys(string keyPrefix, string storeName)
    {
        var tagged = keyPrefix + "{" + storeName + "}:";
        StackPrefix = tagged + "s:";
        _queuePrefix = tagged + "q:";
        _lockPrefix = tagged + "lock:";
        Sequence = tagged + "seq";
        Names = tagged + "names";
        Locks = tagged + "locks";
        Waiters = tagged + "waiters";
        Events = RedisChannel.Literal(tagged + "events");
    }

    /// <summary>The store's version sequence: never deleted, so versions never repeat; also the locks' fencing tokens.</summary>
    public RedisKey Sequence { get; }

    /// <summary>The sorted set of names (stacks and queues), scored by expiry.</summary>
    public RedisKey Names { get; }

    /// <summary>The sorted set of held locks' names, scored by the end of their lease.</summary>
    public RedisKey Locks { get; }

    /// <summary>The sorted set of waiters now (Get-MemStore's and Get-MemLock's Waiters), scored by the end of their lease.</summary>
    public RedisKey Waiters { get; }

    /// <summary>The channel every write, removal, send, receive and lock release publishes on.</summary>
    public RedisChannel Events { get; }

    /// <summary>What every stack's key starts with (the name follows).</summary>
    public string StackPrefix { get; }

    /// <summary>A stack's hash; for a queue, its metadata (the items are in <see cref="Queue"/>).</summary>
    public RedisKey Stack(string name) => StackPrefix + name;

    /// <summary>A queue's items, oldest first.</summary>
    public RedisKey Queue(string name) => _queuePrefix + name;

    /// <summary>A held lock: its token, holder and fencing token, expiring at the end of its lease.</summary>
    public RedisKey Lock(string name) => _lockPrefix + name;
}
