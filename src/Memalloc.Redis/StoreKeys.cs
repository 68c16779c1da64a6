using StackExchange.Redis;

namespace Memalloc.Redis;

/// <summary>The keys of one store, all under the hash tag {store} so that a script may touch several of them on a
/// cluster (docs/redis-design.md, "Key layout").</summary>
internal sealed class StoreKeys
{
    public StoreKeys(string keyPrefix, string storeName)
    {
        var tagged = keyPrefix + "{" + storeName + "}:";
        StackPrefix = tagged + "s:";
        Sequence = tagged + "seq";
        Names = tagged + "names";
        Events = RedisChannel.Literal(tagged + "events");
    }

    /// <summary>The store's version sequence: never deleted, so versions never repeat.</summary>
    public RedisKey Sequence { get; }

    /// <summary>The sorted set of names, scored by expiry.</summary>
    public RedisKey Names { get; }

    /// <summary>The channel every write and removal publishes the stack's name on.</summary>
    public RedisChannel Events { get; }

    /// <summary>What every stack's key starts with (the name follows).</summary>
    public string StackPrefix { get; }

    public RedisKey Stack(string name) => StackPrefix + name;
}
