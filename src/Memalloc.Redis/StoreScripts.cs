namespace Memalloc.Redis;

/// <summary>The Lua scripts of the writes: each runs atomically on the server (docs/redis-design.md, "Writes").</summary>
internal static class StoreScripts
{
    /// <summary>
    /// KEYS: stack, sequence, names. ARGV: value, type name ('' for none), encoding, expiry ms ('' for none), expected
    /// version ('' unconditional, '0' must not exist), signature, name, channel, the writer's clock (ms). Returns the new
    /// version; 0 when the expected version did not hold, or when the kept expiry of a compare-and-set has passed on the
    /// server's clock (the caller reads again and finds the stack gone).
    /// </summary>
    public const string Set = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local current = redis.call('HMGET', KEYS[1], 'n', 'c')
        local expected = ARGV[5]
        if expected ~= '' and (current[1] or '0') ~= expected then return 0 end
        if expected ~= '' and ARGV[4] ~= '' and tonumber(ARGV[4]) <= now then return 0 end
        local version = redis.call('INCR', KEYS[2])
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 'v', ARGV[1], 's', string.len(ARGV[1]), 't', ARGV[2], 'e', ARGV[3],
          'c', current[2] or ARGV[9], 'm', ARGV[9], 'x', ARGV[4], 'n', version, 'h', ARGV[6])
        if ARGV[4] ~= '' then
          redis.call('ZADD', KEYS[3], ARGV[4], ARGV[7])
          redis.call('PEXPIREAT', KEYS[1], ARGV[4])
        else
          redis.call('ZADD', KEYS[3], 'inf', ARGV[7])
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. string.format('%.0f', now))
        redis.call('PUBLISH', ARGV[8], ARGV[7])
        return version
        """;

    /// <summary>KEYS: stack, names. ARGV: expected version ('' for any), name, channel. Returns 1 when removed.</summary>
    public const string Remove = """
        local n = redis.call('HGET', KEYS[1], 'n')
        if not n then
          redis.call('ZREM', KEYS[2], ARGV[2])
          return 0
        end
        if ARGV[1] ~= '' and n ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('ZREM', KEYS[2], ARGV[2])
        redis.call('PUBLISH', ARGV[3], ARGV[2])
        return 1
        """;
}
