using System;
using System.Numerics;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// The wait buckets in the anchor page: a waiter registers on the bucket of the record it waits for and sleeps on the
/// bucket's sequence word; a writer, after its commit and the release of the writer lock, wakes a bucket only when a
/// waiter is registered there and its lease has not lapsed. The protocol and why it loses no wake-up:
/// docs/coordination-design.md, "The protocol without lost wake-ups". Every pointer is an anchor's address, which the
/// caller keeps mapped for the duration of the call.
/// </summary>
internal static unsafe class WaitBuckets
{
    /// <summary>How long past a waiter's next timed wake its lease runs: a writer that sees a lease lapsed skips the
    /// wake, which a live waiter never depends on (it looks again when its slice ends), and which stops the needless
    /// wakes a killed waiter's registration would otherwise cause for ever.</summary>
    internal const int LeaseMarginMilliseconds = 1000;

    private static readonly TimeSpan s_minimumSleep = TimeSpan.FromMilliseconds(1);

    /// <summary>Checks the waiter's condition; true ends the wait. <paramref name="recheckWithin"/> bounds the next sleep
    /// (a stack's expiry, a lock owner's next liveness check); <see cref="Timeout.InfiniteTimeSpan"/> for no bound.</summary>
    internal delegate bool Condition(out TimeSpan recheckWithin);

    internal static int IndexOf(ulong recordNameHash) => (int)(recordNameHash >> CoordinationLayout.WaitBucketShift);

    /// <summary>The bit of a record's bucket in the mask a write collects for <see cref="WakeTouched"/>.</summary>
    internal static ulong MaskOf(ulong recordNameHash) => 1UL << IndexOf(recordNameHash);

    internal static byte* Bucket(byte* anchor, int index) =>
        anchor + CoordinationLayout.WaitBucketTableOffset + (index * CoordinationLayout.WaitBucketSize);

    internal static ref int Sequence(byte* bucket) => ref *(int*)(bucket + CoordinationLayout.WaitBucketSequenceOffset);

    internal static ref int Waiters(byte* bucket) => ref *(int*)(bucket + CoordinationLayout.WaitBucketWaitersOffset);

    internal static ref long Lease(byte* bucket) => ref *(long*)(bucket + CoordinationLayout.WaitBucketLeaseOffset);

    /// <summary>After a committed write, with the writer lock released (its compare-exchange is the full fence the
    /// protocol needs between the publish and the load of <c>waiters</c>): wakes the buckets in <paramref name="mask"/>
    /// that have a live registration. With nobody waiting, one load per bucket and no system call.</summary>
    internal static void WakeTouched(byte* anchor, ulong mask)
    {
        long now = 0;
        while (mask != 0)
        {
            var bucket = Bucket(anchor, BitOperations.TrailingZeroCount(mask));
            mask &= mask - 1;
            if (Volatile.Read(ref Waiters(bucket)) == 0)
            {
                continue;
            }

            if (now == 0)
            {
                now = Environment.TickCount64;
            }

            if (now <= Volatile.Read(ref Lease(bucket)))
            {
                Wake(bucket);
            }
        }
    }

    /// <summary>Wakes every bucket that has a registered waiter, lease or not: after a store is destroyed (its waiters
    /// must see the removal) and when a writer recovers from a dead one (which may have died before its wake).</summary>
    internal static void WakeAllWaited(byte* anchor)
    {
        for (var i = 0; i < CoordinationLayout.WaitBucketCount; i++)
        {
            var bucket = Bucket(anchor, i);
            if (Volatile.Read(ref Waiters(bucket)) != 0)
            {
                Wake(bucket);
            }
        }
    }

    /// <summary>Moves the bucket's sequence on, then wakes its word: a waiter between its check and its sleep then finds
    /// the word changed and returns at once, so the wake cannot fall into that gap.</summary>
    internal static void Wake(byte* bucket)
    {
        Interlocked.Increment(ref Sequence(bucket));
        AddressWait.WakeAll((int*)(bucket + CoordinationLayout.WaitBucketSequenceOffset));
    }

    /// <summary>
    /// Waits on the bucket of <paramref name="recordNameHash"/> until <paramref name="condition"/> holds (true) or
    /// <paramref name="timeout"/> passes (false; <see cref="TimeSpan.Zero"/> checks once). Sleeps at most
    /// <paramref name="slice"/> at a time. Throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellation"/> fires, which wakes the bucket at once. Exceptions of the condition propagate.
    /// </summary>
    internal static bool WaitUntil(byte* anchor, ulong recordNameHash, TimeSpan slice, TimeSpan timeout, CancellationToken cancellation, Condition condition)
    {
        var deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        using var waiter = new BucketWaiter(Bucket(anchor, IndexOf(recordNameHash)), slice, cancellation);
        while (true)
        {
            // The sequence first, then the condition: a change after the check moves the sequence, and the sleep below
            // then returns at once (see the design document).
            var seen = waiter.Sequence;
            if (condition(out var recheckWithin))
            {
                return true;
            }

            cancellation.ThrowIfCancellationRequested();
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                return false;
            }

            var sleep = deadline == long.MaxValue ? slice : TimeSpan.FromMilliseconds(Math.Min(left, (long)Math.Ceiling(slice.TotalMilliseconds)));
            if (recheckWithin != Timeout.InfiniteTimeSpan && recheckWithin < sleep)
            {
                // At least a millisecond: a condition that asks to look again "now" must not turn the wait into a spin.
                sleep = recheckWithin < s_minimumSleep ? s_minimumSleep : recheckWithin;
            }

            waiter.Sleep(seen, sleep);
        }
    }

    /// <summary>The words of one bucket as they are now (tests and Get-MemStore).</summary>
    internal static (int Sequence, int Waiters, long LeaseUntil) State(byte* anchor, int index)
    {
        var bucket = Bucket(anchor, index);
        return (Volatile.Read(ref Sequence(bucket)), Volatile.Read(ref Waiters(bucket)), Volatile.Read(ref Lease(bucket)));
    }
}
