namespace Memalloc.Redis;

/// <summary>The Lua scripts of the writes: each runs atomically on the server (docs/redis-design.md, "Writes").</summary>
internal static class StoreScripts
{
    /// <summary>
    /// KEYS: stack, sequence, names. ARGV: value, type name ('' for none), encoding, expiry ms ('' for none), expected
    /// version ('' unconditional, '0' must not exist), signature, name, channel. Returns the new version, 0 when the
    /// expected version did not hold (or a kept expiry passed: the caller reads again), -1 when the expiry has passed.
    /// </summary>
    public const string Set = """
        local t = redis.call('TIME')
        local now = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
        local current = redis.call('HMGET', KEYS[1], 'n', 'c')
        local expected = ARGV[5]
        if expected ~= '' and (current[1] or '0') ~= expected then return 0 end
        if ARGV[4] ~= '' and tonumber(ARGV[4]) <= tonumber(now) then
          if expected ~= '' then return 0 end
          return -1
        end
        local version = redis.call('INCR', KEYS[2])
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 'v', ARGV[1], 's', string.len(ARGV[1]), 't', ARGV[2], 'e', ARGV[3],
          'c', current[2] or now, 'm', now, 'x', ARGV[4], 'n', version, 'h', ARGV[6])
        if ARGV[4] ~= '' then
          redis.call('PEXPIREAT', KEYS[1], ARGV[4])
          redis.call('ZADD', KEYS[3], ARGV[4], ARGV[7])
        else
          redis.call('ZADD', KEYS[3], 'inf', ARGV[7])
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. now)
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
