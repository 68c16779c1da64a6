namespace Memalloc.Redis;

/// <summary>The Lua scripts of the writes: each runs atomically on the server (docs/redis-design.md, "Writes").</summary>
internal static class StoreScripts
{
    /// <summary>
    /// KEYS: stack, sequence, names, queue. ARGV: value, type name ('' for none), encoding, expiry ms ('' for none), expected
    /// version ('' unconditional, '0' must not exist), signature, name, channel, the writer's clock (ms) or the restored
    /// Modified, the restored Created ('' for a normal write, which keeps the stack's own). Returns the new version; 0 when
    /// the expected version did not hold, or when the kept expiry of a compare-and-set has passed on the server's clock
    /// (the caller reads again and finds the stack gone); -1 when a restored stack's expiry has passed; -2 when the name
    /// is a queue's, unless the stack is restored (an import replaces a queue with the snapshot's stack, its items too).
    /// </summary>
    public const string Set = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local current = redis.call('HMGET', KEYS[1], 'n', 'c', 'k')
        if current[3] == 'q' and ARGV[10] == '' then return -2 end
        local expected = ARGV[5]
        if expected ~= '' and (current[1] or '0') ~= expected then return 0 end
        if ARGV[4] ~= '' and tonumber(ARGV[4]) <= now then
          if ARGV[10] ~= '' then return -1 end
          if expected ~= '' then return 0 end
        end
        local version = redis.call('INCR', KEYS[2])
        redis.call('DEL', KEYS[1], KEYS[4])
        local created = ARGV[10]
        if created == '' then created = current[2] or ARGV[9] end
        redis.call('HSET', KEYS[1], 'v', ARGV[1], 's', string.len(ARGV[1]), 't', ARGV[2], 'e', ARGV[3],
          'c', created, 'm', ARGV[9], 'x', ARGV[4], 'n', version, 'h', ARGV[6])
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

    /// <summary>KEYS: stack, names, sequence, queue. ARGV: expected version ('' for any), name, channel. Returns 1 when
    /// removed (a queue with its items). A removal moves the sequence too, so that a snapshot sees it
    /// (docs/redis-design.md, "Snapshots").</summary>
    public const string Remove = """
        local n = redis.call('HGET', KEYS[1], 'n')
        if not n then
          redis.call('ZREM', KEYS[2], ARGV[2])
          return 0
        end
        if ARGV[1] ~= '' and n ~= ARGV[1] then return 0 end
        redis.call('INCR', KEYS[3])
        redis.call('DEL', KEYS[1], KEYS[4])
        redis.call('ZREM', KEYS[2], ARGV[2])
        redis.call('PUBLISH', ARGV[3], ARGV[2])
        return 1
        """;

    /// <summary>KEYS: sequence. The sequence (false when there is none) and the server's clock (ms): read together before
    /// and after a snapshot's copy.</summary>
    public const string SequenceAndTime = """
        local t = redis.call('TIME')
        return {redis.call('GET', KEYS[1]) or '0', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}
        """;

    /// <summary>
    /// KEYS: names, sequence. ARGV: the prefix of the stacks' keys, the prefix of the queues' lists. The whole store at one
    /// instant, when copies between writes keep meeting writes: the server's clock (ms), then for each live stack its name,
    /// 's' and its fields v t e c m x h, and for each queue its name, 'q', its c and m, its item count and its items.
    /// </summary>
    public const string Snapshot = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local result = {now}
        for _, name in ipairs(redis.call('ZRANGE', KEYS[1], '(' .. string.format('%.0f', now), '+inf', 'BYSCORE')) do
          local f = redis.call('HMGET', ARGV[1] .. name, 'v', 't', 'e', 'c', 'm', 'x', 'h', 'k')
          if f[8] == 'q' then
            local items = redis.call('LRANGE', ARGV[2] .. name, 0, -1)
            result[#result + 1] = name
            result[#result + 1] = 'q'
            result[#result + 1] = f[4]
            result[#result + 1] = f[5]
            result[#result + 1] = #items
            for _, item in ipairs(items) do result[#result + 1] = item end
          elseif f[1] then
            result[#result + 1] = name
            result[#result + 1] = 's'
            for i = 1, 7 do result[#result + 1] = f[i] or '' end
          end
        end
        return result
        """;
}
