namespace Memalloc.Redis;

/// <summary>The Lua scripts of queues and locks: each runs atomically on the server (docs/redis-design.md, "Queues" and
/// "Locks"). A queue's metadata lives in a stack's hash with k = 'q', so that a name is a stack or a queue, never both.</summary>
internal static class CoordinationScripts
{
    /// <summary>
    /// KEYS: metadata, sequence, names, items. ARGV: the encoded item, its value's bytes, name, channel, the sender's clock
    /// (ms). Returns the queue's new version; -2 when the name is a stack's.
    /// </summary>
    public const string Send = """
        local f = redis.call('HMGET', KEYS[1], 'n', 'k')
        if f[1] and f[2] ~= 'q' then return -2 end
        local version = redis.call('INCR', KEYS[2])
        if not f[1] then
          redis.call('HSET', KEYS[1], 'k', 'q', 'c', ARGV[5], 's', 0, 'q', 0, 't', '', 'e', 0, 'x', '')
          redis.call('ZADD', KEYS[3], 'inf', ARGV[3])
        end
        redis.call('RPUSH', KEYS[4], ARGV[1])
        redis.call('HINCRBY', KEYS[1], 's', ARGV[2])
        redis.call('HINCRBY', KEYS[1], 'q', 1)
        redis.call('HSET', KEYS[1], 'n', version, 'm', ARGV[5])
        redis.call('PUBLISH', ARGV[4], ARGV[3])
        return version
        """;

    /// <summary>
    /// KEYS: metadata, sequence, names, items. ARGV: '1' to keep an existing name ('' to replace it), created, modified,
    /// name, channel. An imported queue's head, empty, with a new version (its items follow as sends), replacing what the
    /// name holds: a queue's items, or a stack. Returns the version; 0 when the name exists and is kept.
    /// </summary>
    public const string RestoreQueue = """
        if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        local version = redis.call('INCR', KEYS[2])
        redis.call('DEL', KEYS[1], KEYS[4])
        redis.call('HSET', KEYS[1], 'k', 'q', 'c', ARGV[2], 'm', ARGV[3], 'n', version, 's', 0, 'q', 0, 't', '', 'e', 0, 'x', '')
        redis.call('ZADD', KEYS[3], 'inf', ARGV[4])
        redis.call('PUBLISH', ARGV[5], ARGV[4])
        return version
        """;

    /// <summary>
    /// KEYS: metadata, sequence, items. ARGV: most items, name, channel, the receiver's clock (ms). Returns the items taken,
    /// oldest first (none for a missing or empty queue); -2 when the name is a stack's. Each item is
    /// [format][signature length][signature][type name length, u16 LE][type name][value].
    /// </summary>
    public const string Receive = """
        local f = redis.call('HMGET', KEYS[1], 'n', 'k')
        if not f[1] then return {} end
        if f[2] ~= 'q' then return -2 end
        local items = redis.call('LPOP', KEYS[3], ARGV[1])
        if not items then return {} end
        local bytes = 0
        for _, item in ipairs(items) do
          local sl = string.byte(item, 2)
          bytes = bytes + #item - 4 - sl - string.byte(item, 3 + sl) - 256 * string.byte(item, 4 + sl)
        end
        local version = redis.call('INCR', KEYS[2])
        redis.call('HINCRBY', KEYS[1], 's', -bytes)
        redis.call('HINCRBY', KEYS[1], 'q', -#items)
        redis.call('HSET', KEYS[1], 'n', version, 'm', ARGV[4])
        redis.call('PUBLISH', ARGV[3], ARGV[2])
        return items
        """;

    /// <summary>
    /// KEYS: lock, sequence, locks. ARGV: token, lease (ms), holder's pid, holder's host, name, the holder's clock (ms).
    /// The SET NX PX of a lease lock, with its fencing token (the store's sequence) taken in the same step: {1, token}
    /// when taken, {0, ms left of the holder's lease} when held.
    /// </summary>
    public const string Acquire = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return {0, redis.call('PTTL', KEYS[1])} end
        local token = redis.call('INCR', KEYS[2])
        redis.call('HSET', KEYS[1], 't', ARGV[1], 'p', ARGV[3], 'o', ARGV[4], 's', ARGV[6], 'f', token)
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        local t = redis.call('TIME')
        redis.call('ZADD', KEYS[3], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2]), ARGV[5])
        return {1, token}
        """;

    /// <summary>KEYS: lock, locks. ARGV: token, lease (ms), name. Extends the lease when the token still holds the
    /// lock: 1; 0 when it does not (lost).</summary>
    public const string Renew = """
        if redis.call('HGET', KEYS[1], 't') ~= ARGV[1] then return 0 end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        local t = redis.call('TIME')
        redis.call('ZADD', KEYS[2], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2]), ARGV[3])
        return 1
        """;

    /// <summary>KEYS: lock, locks. ARGV: token, name, channel, the release's message. Deletes the lock only when the token
    /// still holds it (a holder whose lease ran out never deletes its successor's lock): 1; else 0.</summary>
    public const string Release = """
        if redis.call('HGET', KEYS[1], 't') ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('ZREM', KEYS[2], ARGV[2])
        redis.call('PUBLISH', ARGV[3], ARGV[4])
        return 1
        """;
}
