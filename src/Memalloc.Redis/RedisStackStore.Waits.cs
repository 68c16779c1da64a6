using System;
using System.Collections.Generic;
using System.Threading;
using Memalloc.Core;
using StackExchange.Redis;

namespace Memalloc.Redis;

/// <summary>
/// Waits on a Redis store (docs/redis-design.md, "Waits"): watch the store's channel first, then check, then sleep until a
/// message for the name, a recheck time (an expiry, a lock's lease) or the timeout, and check again. No polling, no
/// keyspace notifications. Each sleeping waiter is listed, with a lease, in the store's waiters set, which Get-MemStore
/// and Get-MemLock count.
/// </summary>
public sealed partial class RedisStackStore
{
    /// <summary>How long a waiter stays counted without renewing its entry (one killed while waiting drops out then).</summary>
    private const long WaiterLeaseMs = 30_000;

    /// <summary>How often a sleeping waiter renews its entry.</summary>
    private static readonly TimeSpan s_waiterRenewal = TimeSpan.FromSeconds(10);

    /// <summary>The shortest sleep before a recheck: a host whose clock runs ahead of the server's must not spin while it
    /// waits for the server to expire a key.</summary>
    private static readonly TimeSpan s_shortestRecheck = TimeSpan.FromMilliseconds(5);

    private static readonly string s_processWaiterId = Guid.NewGuid().ToString("N");
    private static long s_lastWaiter;

    private readonly Lazy<StoreEvents> _events;

    private delegate bool Condition(out TimeSpan recheckWithin);

    public bool WaitForChange(string name, long version, TimeSpan timeout, CancellationToken cancellation, out StackInfo? info)
    {
        MemStore.ValidateName(name);
        StackInfo? seen = null;
        var changed = WaitFor(name, string.Empty, timeout, cancellation, (out TimeSpan recheckWithin) =>
        {
            seen = GetInfo(name);
            recheckWithin = seen?.Expires is { } expires ? expires - DateTime.UtcNow : Timeout.InfiniteTimeSpan;
            return (seen?.Version ?? 0) != version;
        });
        info = changed ? seen : null;
        return changed;
    }

    /// <summary>Checks <paramref name="condition"/> until it holds (true) or <paramref name="timeout"/> passes (false),
    /// sleeping between checks until a message on <paramref name="topic"/>.</summary>
    private bool WaitFor(string topic, string waiterTag, TimeSpan timeout, CancellationToken cancellation, Condition condition)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"A timeout cannot be negative; it was {timeout}.");
        }

        var deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        using var watcher = Call(() => _events.Value.Watch(topic));
        RedisValue? waiter = null;
        var renewedAt = 0L;
        var recheckAt = long.MaxValue;
        var check = true;
        try
        {
            while (true)
            {
                if (check)
                {
                    watcher.Arm();
                    if (condition(out var recheckWithin))
                    {
                        return true;
                    }

                    recheckAt = recheckWithin == Timeout.InfiniteTimeSpan ? long.MaxValue
                        : Environment.TickCount64 + (long)Math.Max(recheckWithin.TotalMilliseconds, s_shortestRecheck.TotalMilliseconds);
                }

                var now = Environment.TickCount64;
                if (now >= deadline)
                {
                    return false;
                }

                if (waiter is null || now - renewedAt >= (long)s_waiterRenewal.TotalMilliseconds)
                {
                    waiter ??= $"{s_processWaiterId}.{Interlocked.Increment(ref s_lastWaiter)}|{waiterTag}";
                    ListWaiter(waiter.Value);
                    renewedAt = now;
                }

                // Only a message (or a recheck time) makes the condition worth a look: a sleep that ends for the
                // waiter's renewal looks at nothing, so a lost wake-up would show as a hang, never be papered over.
                var wakeAt = Math.Min(Math.Min(deadline, recheckAt), renewedAt + (long)s_waiterRenewal.TotalMilliseconds);
                var woken = watcher.Sleep(TimeSpan.FromMilliseconds(Math.Max(wakeAt - now, 0)), cancellation);
                check = woken || Environment.TickCount64 >= recheckAt;
            }
        }
        finally
        {
            if (waiter is { } listed)
            {
                UnlistWaiter(listed);
            }
        }
    }

    private void ListWaiter(RedisValue waiter)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var batch = _database.CreateBatch();
        _ = batch.SortedSetRemoveRangeByScoreAsync(_keys.Waiters, double.NegativeInfinity, now);
        var added = batch.SortedSetAddAsync(_keys.Waiters, waiter, now + WaiterLeaseMs);
        batch.Execute();
        _ = Call(() => added.GetAwaiter().GetResult());
    }

    /// <summary>Taken off before the wait returns, so that whoever counts waiters after it sees it gone; a waiter whose
    /// entry cannot be removed (the server is away) drops out at its lease's end.</summary>
    private void UnlistWaiter(RedisValue waiter)
    {
        try
        {
            _ = _database.SortedSetRemove(_keys.Waiters, waiter);
        }
        catch (Exception e) when (RedisFailures.IsRedis(e))
        {
        }
    }

    /// <summary>The tags of the waiters listed now (empty for a change or queue waiter, "lock:name" for a lock waiter).</summary>
    private List<string> ListedWaiters()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var members = Call(() => _database.SortedSetRangeByScore(_keys.Waiters, now, double.PositiveInfinity));
        var tags = new List<string>(members.Length);
        foreach (var member in members)
        {
            var text = (string?)member ?? string.Empty;
            tags.Add(text[(text.IndexOf('|', StringComparison.Ordinal) + 1)..]);
        }

        return tags;
    }
}
