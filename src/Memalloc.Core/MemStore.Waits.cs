using System;
using System.Text;
using System.Threading;

namespace Memalloc.Core;

/// <summary>Waiting for a change without polling, and the wake-ups a write owes its waiters
/// (docs/coordination-design.md, "The protocol without lost wake-ups").</summary>
public sealed unsafe partial class MemStore
{
    /// <summary>How long a change waiter sleeps at most before it renews its lease and looks again; a change wakes it at
    /// once. Bounds the delay after a writer killed between its commit and its wake.</summary>
    private static readonly TimeSpan s_changeWaitSlice = TimeSpan.FromSeconds(1);

    /// <summary>The wait buckets of the records the current hold of the writer lock published; woken after its release.
    /// Touched only under the process lock.</summary>
    private ulong _wakeMask;

    /// <summary>Set when a write recovered from a dead writer, which may have died before its wake: wake every bucket.</summary>
    private bool _wakeAllWaited;

    /// <summary>How this process sleeps until another changes a word in shared memory.</summary>
    public static WaitPrimitive WaitPrimitive => Native.AddressWait.Primitive;

    /// <summary>
    /// Waits until the version of <paramref name="name"/> (a stack's or a queue's; 0 while it is missing) differs from
    /// <paramref name="version"/>: at once when it already does. True with the info after the change (null when the
    /// name is missing now: it was removed or expired); false when <paramref name="timeout"/> passed first
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: no limit; <see cref="TimeSpan.Zero"/>: look once). Sleeps in the kernel;
    /// an expiry ends the wait at the expiry time. <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellation"/> fires; <see cref="MemStoreErrorKind.StoreRemoved"/> when the store is removed.
    /// </summary>
    public bool WaitForChange(string name, long version, TimeSpan timeout, CancellationToken cancellation, out StackInfo? info)
    {
        CheckTimeout(timeout);
        var hash = StackName.Hash(name);
        StackInfo? seen = null;
        var changed = WaitOnBucket(hash, s_changeWaitSlice, timeout, cancellation, (out TimeSpan recheckWithin) =>
        {
            seen = GetInfo(name);
            recheckWithin = seen?.Expires is { } expires ? Max(expires - DateTime.UtcNow, TimeSpan.Zero) : Timeout.InfiniteTimeSpan;
            return (seen?.Version ?? 0) != version;
        });
        info = changed ? seen : null;
        return changed;
    }

    /// <summary>The number of waiters registered on this store's wait buckets (those of processes killed while waiting
    /// drop out once their lease lapses, within about two seconds).</summary>
    private int CountWaiters()
    {
        var now = Environment.TickCount64;
        var waiters = 0;
        for (var i = 0; i < CoordinationLayout.WaitBucketCount; i++)
        {
            var (_, count, leaseUntil) = WaitBuckets.State(_anchor.Address, i);
            if (count > 0 && leaseUntil >= now)
            {
                waiters += count;
            }
        }

        return waiters;
    }

    /// <summary>Waits on the bucket of <paramref name="recordNameHash"/> (<see cref="WaitBuckets.WaitUntil"/>) with the
    /// anchor page kept mapped for the whole wait, even if this instance is disposed meanwhile.</summary>
    private bool WaitOnBucket(ulong recordNameHash, TimeSpan slice, TimeSpan timeout, CancellationToken cancellation, WaitBuckets.Condition condition)
    {
        var view = Enter();
        try
        {
            _anchor.Borrow();
        }
        finally
        {
            view.Exit();
        }

        try
        {
            return WaitBuckets.WaitUntil(_anchor.Address, recordNameHash, slice, timeout, cancellation, condition);
        }
        finally
        {
            _anchor.Return();
        }
    }

    private static void CheckTimeout(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"A timeout cannot be negative ({timeout}).");
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Before the first coordination record goes into a store: raise its layout version, the anchor's first and
    /// then the current arena's (docs/coordination-design.md, "Record kinds and the layout version"). Caller holds the
    /// writer lock. Older Memalloc then refuses the store instead of misreading its records.</summary>
    private void RaiseLayoutVersion(ArenaView view)
    {
        if (_anchor.Version < Layout.LayoutVersion)
        {
            _anchor.Version = Layout.LayoutVersion;
        }

        ref var arenaVersion = ref *(uint*)(view.Address + Layout.ArenaVersionOffset);
        if (Volatile.Read(ref arenaVersion) < Layout.LayoutVersion)
        {
            Volatile.Write(ref arenaVersion, Layout.LayoutVersion);
        }
    }

    private static MemStoreException QueueRefused(ReadOnlySpan<byte> name) => new(MemStoreErrorKind.NameIsQueue,
        $"'{Encoding.UTF8.GetString(name)}' is a queue, not a stack: take its items with Receive-MemQueue, or remove it first.");

    private static MemStoreException StackRefused(ReadOnlySpan<byte> name) => new(MemStoreErrorKind.NameIsStack,
        $"'{Encoding.UTF8.GetString(name)}' is a stack, not a queue: read it with Get-MemStack, or remove it first.");
}
