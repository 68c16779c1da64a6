using System;
using System.Threading;

namespace Memalloc.Core;

/// <summary>
/// A named lock held by this process (<see cref="Backends.IStackStore.AcquireLock"/>). Disposing releases it, unless it was
/// a re-entry of a lock the same holder already held (then the outermost acquisition releases). On shared memory a
/// process that dies holding it loses it to the next waiter; on Redis the lock is a lease that the holder renews, and
/// that it can lose while it runs (<see cref="LostReason"/>: docs/redis-design.md, "Locks").
/// </summary>
public sealed class HeldLock : IDisposable
{
    private readonly Action<HeldLock> _release;
    private string? _lostReason;
    private int _released;

    /// <summary>A held lock of store <paramref name="store"/>; <paramref name="release"/> gives it back (called once, and
    /// never for a re-entry).</summary>
    public HeldLock(string store, string name, ulong holder, long token, DateTime since, bool reentered, Action<HeldLock> release)
    {
        Store = store;
        Name = name;
        Holder = holder;
        Token = token;
        Since = since;
        Reentered = reentered;
        _release = release;
    }

    public string Name { get; }

    public string Store { get; }

    /// <summary>The fencing token: grows with every acquisition of the lock and is never reused. A re-entry has its
    /// outermost acquisition's token.</summary>
    public long Token { get; }

    /// <summary>UTC time of the acquisition.</summary>
    public DateTime Since { get; }

    /// <summary>True when the holder already held the lock: disposing this one does not release it.</summary>
    public bool Reentered { get; }

    /// <summary>Who holds it (one id per runspace, say).</summary>
    public ulong Holder { get; }

    /// <summary>Why the lock was lost while held (a lease that could not be renewed), or null while it is held.</summary>
    public string? LostReason => Volatile.Read(ref _lostReason);

    /// <summary>Records that the lock was lost while held; the first reason stays.</summary>
    public void MarkLost(string reason) => Interlocked.CompareExchange(ref _lostReason, reason, null);

    public void Dispose()
    {
        if (!Reentered && Interlocked.Exchange(ref _released, 1) == 0)
        {
            _release(this);
        }
    }
}
