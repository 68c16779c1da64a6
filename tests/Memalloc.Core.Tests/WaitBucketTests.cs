using System;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// The wait buckets' protocol (docs/coordination-design.md): a write wakes only a bucket with a live registration, no
/// wake-up is lost between a waiter's check and its sleep (ping-pong with hour-long slices: a lost wake-up hangs), a
/// killed waiter stops costing wakes when its lease lapses, and a cancellation ends a wait at once.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed unsafe class WaitBucketTests : IDisposable
{
    private const ulong PingHash = 0x0123_4567_89AB_CDEFUL;
    private const ulong PongHash = 0xFEDC_BA98_7654_3210UL;

    private static readonly TimeSpan s_hour = TimeSpan.FromHours(1);

    private readonly TestSegment _anchor = new();

    public void Dispose() => _anchor.Dispose();

    private byte* Anchor => _anchor.Address;

    private (int Sequence, int Waiters, long LeaseUntil) StateOf(ulong hash) => WaitBuckets.State(Anchor, WaitBuckets.IndexOf(hash));

    [SysVFact]
    public void A_write_with_nobody_waiting_makes_no_wake()
    {
        WaitBuckets.WakeTouched(Anchor, ulong.MaxValue);

        for (var i = 0; i < CoordinationLayout.WaitBucketCount; i++)
        {
            Assert.Equal((0, 0, 0L), WaitBuckets.State(Anchor, i));
        }
    }

    [SysVFact]
    public void A_bucket_is_woken_only_while_a_waiter_holds_a_lease_on_it()
    {
        var bucket = WaitBuckets.Bucket(Anchor, 5);
        WaitBuckets.Waiters(bucket) = 1;
        WaitBuckets.Lease(bucket) = Environment.TickCount64 + 60_000;
        WaitBuckets.WakeTouched(Anchor, 1UL << 5);
        Assert.Equal(1, WaitBuckets.Sequence(bucket));

        WaitBuckets.Lease(bucket) = Environment.TickCount64 - 1;
        WaitBuckets.WakeTouched(Anchor, 1UL << 5);
        Assert.Equal(1, WaitBuckets.Sequence(bucket));

        WaitBuckets.WakeAllWaited(Anchor); // recovery and destruction wake whatever is registered
        Assert.Equal(2, WaitBuckets.Sequence(bucket));
    }

    [SysVFact]
    public void A_condition_that_holds_returns_at_once_and_unregisters()
    {
        var calls = 0;
        Assert.True(WaitBuckets.WaitUntil(Anchor, 42, s_hour, Timeout.InfiniteTimeSpan, CancellationToken.None, (out TimeSpan recheck) =>
        {
            recheck = Timeout.InfiniteTimeSpan;
            calls++;
            return true;
        }));
        Assert.Equal(1, calls);
        Assert.Equal(0, StateOf(42).Waiters);
    }

    [SysVFact]
    public void A_zero_timeout_checks_once()
    {
        var calls = 0;
        Assert.False(WaitBuckets.WaitUntil(Anchor, 42, s_hour, TimeSpan.Zero, CancellationToken.None, (out TimeSpan recheck) =>
        {
            recheck = Timeout.InfiniteTimeSpan;
            calls++;
            return false;
        }));
        Assert.Equal(1, calls);
        Assert.Equal(0, StateOf(42).Waiters);
    }

    [SysVFact]
    public void The_condition_bounds_the_sleep_when_it_knows_when_to_look_again()
    {
        // Nobody wakes the bucket and the slice is an hour: only the condition's own bound (an expiry, a liveness
        // check) can make it look again.
        var calls = 0;
        Within(30, "a wait bounded by its condition", () => WaitBuckets.WaitUntil(Anchor, 42, s_hour, Timeout.InfiniteTimeSpan, CancellationToken.None,
            (out TimeSpan recheck) =>
            {
                recheck = TimeSpan.FromMilliseconds(5);
                return ++calls >= 4;
            }));
        Assert.Equal(4, calls);
    }

    [SysVFact]
    public void Cancellation_wakes_the_waiter_at_once()
    {
        using var cancellation = new CancellationTokenSource();
        var wait = Task.Run(() => WaitBuckets.WaitUntil(Anchor, 42, s_hour, Timeout.InfiniteTimeSpan, cancellation.Token, (out TimeSpan recheck) =>
        {
            recheck = Timeout.InfiniteTimeSpan;
            return false;
        }));
        Within(30, "registration", () => SpinWait.SpinUntil(() => StateOf(42).Waiters == 1));

        cancellation.Cancel();

        Assert.Throws<OperationCanceledException>(() => Within(30, "a cancelled wait", () => wait.GetAwaiter().GetResult()));
        Assert.Equal(0, StateOf(42).Waiters);
    }

    [SysVFact]
    public void Ping_pong_between_threads_loses_no_wake_up()
    {
        const long Rounds = 20_000;
        var ping = (long*)Anchor;
        var pong = (long*)(Anchor + 8);
        var address = (IntPtr)Anchor;
        var ponger = Task.Factory.StartNew(() =>
        {
            var anchor = (byte*)address;
            for (long round = 1; round <= Rounds; round++)
            {
                var r = round;
                WaitBuckets.WaitUntil(anchor, PingHash, s_hour, Timeout.InfiniteTimeSpan, CancellationToken.None, (out TimeSpan recheck) =>
                {
                    recheck = Timeout.InfiniteTimeSpan;
                    return Volatile.Read(ref *(long*)anchor) >= r;
                });
                Interlocked.Exchange(ref *(long*)(anchor + 8), round);
                WaitBuckets.WakeTouched(anchor, WaitBuckets.MaskOf(PongHash));
            }
        }, TaskCreationOptions.LongRunning);

        Within(120, "20,000 rounds of ping-pong between two threads", () => PingRounds(ping, pong, Rounds));
        Within(30, "the ponger", () => ponger.GetAwaiter().GetResult());
    }

    [SysVFact]
    public void Ping_pong_across_processes_loses_no_wake_up()
    {
        const long Rounds = 5_000;
        using var ponger = TestHostProcess.Start("bucket-pong", _anchor.ShmId.ToString(Inv), Rounds.ToString(Inv), PingHash.ToString(Inv), PongHash.ToString(Inv));
        Assert.StartsWith("READY", ponger.WaitForReady(), StringComparison.Ordinal);

        Within(120, "5,000 rounds of ping-pong with another process", () => PingRounds((long*)Anchor, (long*)(Anchor + 8), Rounds));
        ponger.WaitForLine(l => l.StartsWith("DONE", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
    }

    [SysVFact]
    public void A_killed_waiter_stops_costing_wakes_once_its_lease_lapses()
    {
        const ulong Hash = 0xABCD_0000_0000_0000UL;
        var waiter = TestHostProcess.Start("bucket-wait", _anchor.ShmId.ToString(Inv), Hash.ToString(Inv));
        using (waiter)
        {
            Assert.StartsWith("READY", waiter.WaitForReady(), StringComparison.Ordinal);
            Within(30, "registration", () => SpinWait.SpinUntil(() => StateOf(Hash).Waiters == 1));
            waiter.KillHard();
        }

        // Its registration is left behind (it never ran its finally): writers wake the bucket while its lease runs...
        var before = StateOf(Hash).Sequence;
        WaitBuckets.WakeTouched(Anchor, WaitBuckets.MaskOf(Hash));
        Assert.Equal(1, StateOf(Hash).Waiters);
        Assert.Equal(before + 1, StateOf(Hash).Sequence);

        // ...and not after it lapsed (a 1 s slice plus the margin).
        Within(30, "the lease to lapse", () => SpinWait.SpinUntil(() => Environment.TickCount64 > StateOf(Hash).LeaseUntil));
        WaitBuckets.WakeTouched(Anchor, WaitBuckets.MaskOf(Hash));
        Assert.Equal(before + 1, StateOf(Hash).Sequence);
    }

    /// <summary>The pinging side: publish round r, wake, wait for the pong of round r.</summary>
    private void PingRounds(long* ping, long* pong, long rounds)
    {
        var anchor = Anchor;
        for (long round = 1; round <= rounds; round++)
        {
            Interlocked.Exchange(ref *ping, round);
            WaitBuckets.WakeTouched(anchor, WaitBuckets.MaskOf(PingHash));
            var r = round;
            WaitBuckets.WaitUntil(anchor, PongHash, s_hour, Timeout.InfiniteTimeSpan, CancellationToken.None, (out TimeSpan recheck) =>
            {
                recheck = Timeout.InfiniteTimeSpan;
                return Volatile.Read(ref *pong) >= r;
            });
        }
    }
}
