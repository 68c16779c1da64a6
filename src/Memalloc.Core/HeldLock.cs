using System;

namespace Memalloc.Core;

/// <summary>
/// A named lock held by this process (<see cref="MemStore.AcquireLock"/>). Disposing releases it, unless it was a
/// re-entry of a lock the same holder already held (then the outermost acquisition releases). A process that dies
/// holding it loses it: the next waiter takes it over.
/// </summary>
public sealed class HeldLock : IDisposable
{
    private readonly MemStore _store;
    private int _released;

    internal HeldLock(MemStore store, string name, ulong holder, long token, DateTime since, bool reentered)
    {
        _store = store;
        Name = name;
        Holder = holder;
        Token = token;
        Since = since;
        Reentered = reentered;
    }

    public string Name { get; }

    public string Store => _store.Name;

    /// <summary>The fencing token: grows with every acquisition of a lock in this store and is never reused (the store's
    /// write sequence at the acquisition). A re-entry has its outermost acquisition's token.</summary>
    public long Token { get; }

    /// <summary>UTC time of the acquisition.</summary>
    public DateTime Since { get; }

    /// <summary>True when the holder already held the lock: disposing this one does not release it.</summary>
    public bool Reentered { get; }

    internal ulong Holder { get; }

    public void Dispose()
    {
        if (!Reentered && System.Threading.Interlocked.Exchange(ref _released, 1) == 0)
        {
            _store.ReleaseLock(this);
        }
    }
}
