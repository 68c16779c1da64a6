using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Threading;
using Memalloc.Core;
using StackExchange.Redis;

namespace Memalloc.Redis;

/// <summary>
/// Named locks on a Redis store (docs/redis-design.md, "Locks"): a lease lock (the Acquire script: SET NX PX with its
/// fencing token), renewed in the background every third of the lease while held, released by a token-checked script.
/// A holder that dies or loses the server loses the lock when the lease ends; a holder whose renewal fails is told
/// (<see cref="HeldLock.LostReason"/>). No Redlock.
/// </summary>
public sealed partial class RedisStackStore
{
    /// <summary>How long a lock outlives its last renewal: a dead holder's lock is free after at most this.</summary>
    private static readonly TimeSpan s_lockLease = TimeSpan.FromSeconds(10);

    /// <summary>The fields of a lock's hash that Get-MemLock shows: pid, since, fencing token.</summary>
    private static readonly RedisValue[] s_lockFields = ["p", "s", "f"];

    /// <summary>The locks this process holds in this store, by name: what makes a holder's nested acquisition re-entrant.</summary>
    private readonly Dictionary<string, Lease> _leases = new(StringComparer.Ordinal);

    public HeldLock? AcquireLock(string name, ulong holder, TimeSpan timeout, CancellationToken cancellation = default)
    {
        MemStore.ValidateName(name);
        if (holder == 0)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, "A lock holder id cannot be 0.");
        }

        lock (_leases)
        {
            if (_leases.TryGetValue(name, out var own) && own.Held.Holder == holder)
            {
                return new HeldLock(Name, name, holder, own.Held.Token, own.Held.Since, reentered: true, static _ => { });
            }
        }

        HeldLock? held = null;
        _ = WaitFor(LockMessage(name), "lock:" + name, timeout, cancellation, (out TimeSpan recheckWithin) =>
        {
            held = TryTakeLock(name, holder, out var leaseLeft);
            recheckWithin = held is null ? leaseLeft : Timeout.InfiniteTimeSpan; // a dead holder's lease ends unannounced
            return held is not null;
        });
        return held;
    }

    public IReadOnlyList<LockInfo> ListLocks()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var names = Call(() => _database.SortedSetRangeByScore(_keys.Locks, now, double.PositiveInfinity));
        var batch = _database.CreateBatch();
        var reads = Array.ConvertAll(names, n => batch.HashGetAsync(_keys.Lock((string)n!), s_lockFields));
        batch.Execute();
        var waiters = ListedWaiters();
        var locks = new List<LockInfo>(names.Length);
        for (var i = 0; i < names.Length; i++)
        {
            var index = i;
            var fields = Call(() => reads[index].GetAwaiter().GetResult());
            if (fields[0].IsNull)
            {
                continue; // released or lapsed since the listing
            }

            var name = (string)names[i]!;
            locks.Add(new LockInfo
            {
                Name = name,
                Store = Name,
                OwnerPid = (int)fields[0],
                Since = FromMs((long)fields[1]),
                Token = (long)fields[2],
                Waiters = waiters.FindAll(tag => tag == "lock:" + name).Count,
            });
        }

        locks.Sort((a, b) => StackNameOrder.Instance.Compare(a.Name, b.Name));
        return locks;
    }

    /// <summary>The message a lock's release publishes: a control character no stack name holds keeps it apart from them.</summary>
    private static string LockMessage(string name) => "\u0001lock:" + name;

    /// <summary>One try of the Acquire script; null, with how long the holder's lease has left, when it is held.</summary>
    private HeldLock? TryTakeLock(string name, ulong holder, out TimeSpan leaseLeft)
    {
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        RedisKey[] keys = [_keys.Lock(name), _keys.Sequence, _keys.Locks];
        RedisValue[] arguments =
        [
            token, (long)s_lockLease.TotalMilliseconds, Environment.ProcessId, Environment.MachineName, name, now,
        ];
        var result = (RedisValue[])Call(() => _database.ScriptEvaluate(CoordinationScripts.Acquire, keys, arguments))!;
        if ((long)result[0] == 0)
        {
            leaseLeft = TimeSpan.FromMilliseconds(Math.Max((long)result[1], 1));
            return null;
        }

        leaseLeft = TimeSpan.Zero;
        var held = new HeldLock(Name, name, holder, (long)result[1], FromMs(now), reentered: false, ReleaseLock);
        var lease = new Lease(held, token);
        lock (_leases)
        {
            _leases[name] = lease;
        }

        lease.Renewal = new Timer(_ => Renew(lease), null, s_lockLease / 3, s_lockLease / 3);
        return held;
    }

    /// <summary>Extends the lease; a renewal that finds the lock gone or another's, or that cannot reach the server before
    /// the lease ends, tells the holder the lock is lost.</summary>
    private void Renew(Lease lease)
    {
        var name = lease.Held.Name;
        try
        {
            var renewed = (long)Call(() => _database.ScriptEvaluate(CoordinationScripts.Renew, [_keys.Lock(name), _keys.Locks],
                [lease.Token, (long)s_lockLease.TotalMilliseconds, name]));
            if (renewed == 1)
            {
                lease.RenewedAt = Environment.TickCount64;
                return;
            }

            Lose(lease, $"Lock '{name}' in Redis store '{Name}' ({_server}) was lost: its lease ran out before it was renewed "
                + "(the holder was paused, or the server lost the key), and another may hold it now.");
        }
        catch (MemStoreException e)
        {
            if (Environment.TickCount64 - lease.RenewedAt >= (long)s_lockLease.TotalMilliseconds)
            {
                var why = e.Kind == MemStoreErrorKind.ConnectionFailed ? "the server could not be reached or did not answer" : e.Kind.ToString();
                Lose(lease, $"Lock '{name}' in Redis store '{Name}' ({_server}) was lost: it could not be renewed within its lease "
                    + $"of {s_lockLease.TotalSeconds} s ({why}).");
            }
        }
    }

    private void Lose(Lease lease, string reason)
    {
        lease.Held.MarkLost(reason);
        lease.Renewal?.Dispose();
    }

    /// <summary>Gives the lock back (only if its token still holds it). A server that cannot be reached lets the lease run
    /// out instead: the lock is free at its end.</summary>
    private void ReleaseLock(HeldLock held)
    {
        Lease? lease;
        lock (_leases)
        {
            if (_leases.TryGetValue(held.Name, out lease) && ReferenceEquals(lease.Held, held))
            {
                _ = _leases.Remove(held.Name);
            }
        }

        if (lease is null)
        {
            return;
        }

        lease.Renewal?.Dispose();
        try
        {
            _ = Call(() => _database.ScriptEvaluate(CoordinationScripts.Release, [_keys.Lock(held.Name), _keys.Locks],
                [lease.Token, held.Name, _keys.Events.ToString(), LockMessage(held.Name)]));
        }
        catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.ConnectionFailed)
        {
        }
    }

    /// <summary>A lock this process holds: its token and the timer that renews it.</summary>
    private sealed class Lease(HeldLock held, string token)
    {
        public HeldLock Held { get; } = held;

        public string Token { get; } = token;

        public Timer? Renewal { get; set; }

        public long RenewedAt { get; set; } = Environment.TickCount64;
    }
}
