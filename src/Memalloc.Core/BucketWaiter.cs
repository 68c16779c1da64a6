using System;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// One waiter's registration on a wait bucket, from construction to <see cref="Dispose"/>: the lease is raised and the
/// waiter counted (in that order: a writer that sees the count also sees the lease), and a cancellation wakes the
/// bucket from the cancelling thread. Disposing unregisters; a process killed while registered leaves its count behind,
/// which its lapsing lease makes harmless (docs/coordination-design.md, "Waiters that die").
/// </summary>
internal sealed unsafe class BucketWaiter : IDisposable
{
    private readonly byte* _bucket;
    private readonly TimeSpan _slice;
    private readonly CancellationTokenRegistration _cancellation;
    private int _disposed;

    internal BucketWaiter(byte* bucket, TimeSpan slice, CancellationToken cancellation)
    {
        _bucket = bucket;
        _slice = slice;
        RenewLease();
        Interlocked.Increment(ref WaitBuckets.Waiters(bucket)); // a full fence before the caller's first check
        _cancellation = cancellation.Register(static state => WaitBuckets.Wake((byte*)(IntPtr)state!), (IntPtr)bucket);
    }

    /// <summary>The bucket's sequence now; read it before checking the condition, and sleep for that value.</summary>
    internal int Sequence => Volatile.Read(ref WaitBuckets.Sequence(_bucket));

    /// <summary>Sleeps while the sequence is <paramref name="seen"/>, at most <paramref name="timeout"/> (the caller keeps
    /// it within one slice), then renews the lease for the next slice.</summary>
    internal AddressWaitResult Sleep(int seen, TimeSpan timeout)
    {
        var result = AddressWait.Wait((int*)(_bucket + CoordinationLayout.WaitBucketSequenceOffset), seen, timeout);
        RenewLease();
        return result;
    }

    /// <summary>Raises the bucket's lease to cover this waiter's next slice; never lowers it (other waiters' slices).</summary>
    private void RenewLease()
    {
        ref var lease = ref WaitBuckets.Lease(_bucket);
        var until = Environment.TickCount64 + (long)Math.Ceiling(_slice.TotalMilliseconds) + WaitBuckets.LeaseMarginMilliseconds;
        var current = Volatile.Read(ref lease);
        while (current < until)
        {
            var seen = Interlocked.CompareExchange(ref lease, until, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // First the callback (Dispose waits for one that is running, which uses the bucket), then the count.
        _cancellation.Dispose();
        Interlocked.Decrement(ref WaitBuckets.Waiters(_bucket));
    }
}
