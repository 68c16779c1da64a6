using System;
using System.Collections.Generic;
using System.Threading;
using Memalloc.Core.Snapshots;

namespace Memalloc.Core.Backends;

/// <summary>
/// One open store, whatever holds it: what the cmdlets call. <see cref="MemStore"/> implements it over shared memory,
/// Memalloc.Redis over a Redis server (docs/redis-design.md). Implementations are thread-safe and report every failure as
/// a <see cref="MemStoreException"/> whose kind the cmdlets map to one error id and category.
/// </summary>
public interface IStackStore : IDisposable
{
    /// <summary>The store's name.</summary>
    string Name { get; }

    /// <summary>The stack's value and metadata, read together; false when it does not exist or has expired.</summary>
    bool TryGet(string name, out StackEntry? entry);

    /// <summary>As <see cref="TryGet"/>, the value in an array the entry gives back when disposed (pooled where the
    /// backend can: shared memory).</summary>
    bool TryGetRented(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RentedStackEntry? entry);

    /// <summary>The stack's metadata; null when it does not exist or has expired.</summary>
    StackInfo? GetInfo(string name);

    /// <summary>Whether the stack exists and has not expired.</summary>
    bool Exists(string name);

    /// <summary>Metadata of every live stack, in name order (UTF-8 byte order).</summary>
    IReadOnlyList<StackInfo> List();

    /// <summary>Names of every live stack, in name order (UTF-8 byte order).</summary>
    IReadOnlyList<string> ListNames();

    /// <summary>Writes the stack; false when <see cref="WriteOptions.ExpectedVersion"/> did not hold (nothing written).</summary>
    bool TrySet(string name, ReadOnlySpan<byte> value, in WriteOptions options, out long version);

    /// <summary>Removes the stack (only at that version, when given); false when there was nothing to remove.</summary>
    bool Remove(string name, long? expectedVersion = null);

    /// <summary>The store's size and where it lives.</summary>
    StoreStatistics GetStatistics();

    /// <summary>Walks the store and checks what can be checked.</summary>
    VerifyReport Verify();

    /// <summary>Throws StoreRemoved when the last write may have gone into a store that was removed meanwhile; a backend
    /// whose writes are acknowledged by their server (Redis) has nothing to check.</summary>
    void EnsureNotRemoved();

    /// <summary>A consistent copy of the live stacks and queues (those <paramref name="include"/> chooses by name) at one instant, for
    /// Export-MemStore (docs/snapshot-format.md).</summary>
    StoreSnapshot TakeSnapshot(Func<string, bool>? include);

    /// <summary>Writes one stack of a snapshot (Import-MemStore) with its type name, encoding, times and expiry.</summary>
    RestoreOutcome Restore(in SnapshotStack stack, bool noClobber, out long version);

    /// <summary>Begins restoring a queue of a snapshot: its head, empty, replacing what the name holds (with
    /// <paramref name="noClobber"/>, nothing when the name exists); its items follow through <see cref="RestoreQueueItem"/>.</summary>
    RestoreOutcome RestoreQueue(in SnapshotQueue queue, bool noClobber, out long version);

    /// <summary>Appends the next item of a queue <see cref="RestoreQueue"/> began; returns the queue's new version.</summary>
    long RestoreQueueItem(in SnapshotQueue queue, in SnapshotQueueItem item);

    /// <summary>Whether updaters of a stack can queue for its update turn (shared memory) or only retry (Redis).</summary>
    bool HasUpdateTurns { get; }

    /// <summary>Another updater holds or waits for the stack's turn (false without turns).</summary>
    bool IsUpdateTurnBusy(string name);

    /// <summary>Waits for the stack's update turn; null when <paramref name="timeout"/> passed first. Only called when
    /// <see cref="HasUpdateTurns"/>.</summary>
    IDisposable? TakeUpdateTurn(string name, TimeSpan timeout, CancellationToken cancellation);

    // Coordination (docs/coordination-design.md; on Redis, docs/redis-design.md). Every wait re-checks its condition
    // after each wake, ends with OperationCanceledException when cancelled, and takes Timeout.InfiniteTimeSpan for no
    // limit and TimeSpan.Zero for one look.

    /// <summary>Waits until the version of a stack or queue (0 while missing) differs from <paramref name="version"/>: true
    /// with the info after the change (null when it is missing now), false when <paramref name="timeout"/> passed.</summary>
    bool WaitForChange(string name, long version, TimeSpan timeout, CancellationToken cancellation, out StackInfo? info);

    /// <summary>Takes the exclusive lock for <paramref name="holder"/> (re-entrant per holder); null when
    /// <paramref name="timeout"/> passed first.</summary>
    HeldLock? AcquireLock(string name, ulong holder, TimeSpan timeout, CancellationToken cancellation = default);

    /// <summary>The locks held now, sorted by name.</summary>
    IReadOnlyList<LockInfo> ListLocks();

    /// <summary>Appends one item to a queue (made when missing); returns the queue's new version.</summary>
    long Send(string queue, ReadOnlySpan<byte> item, string? typeName = null);

    /// <summary>Takes up to <paramref name="maxCount"/> items from the queue's head, oldest first; none when it is empty
    /// or missing.</summary>
    IReadOnlyList<QueueItem> Receive(string queue, int maxCount);

    /// <summary>As <see cref="Receive(string, int)"/>, waiting for an item at most <paramref name="timeout"/>.</summary>
    IReadOnlyList<QueueItem> Receive(string queue, int maxCount, TimeSpan timeout, CancellationToken cancellation);
}
