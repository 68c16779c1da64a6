using System;
using System.Threading;
using System.Threading.Tasks;
using Memalloc.Core;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>Named locks and waits for a change in one process (across processes: the Pester suites and
/// <see cref="CoordinationCrashTests"/>).</summary>
public class LockAndWaitTests
{
    [Fact]
    public void A_lock_is_reentrant_for_its_holder_and_refused_to_another()
    {
        using var t = new TestStore();
        using (var held = t.Store.AcquireLock("L", 1, TimeSpan.Zero))
        {
            Assert.NotNull(held);
            Assert.False(held!.Reentered);
            using (var again = t.Store.AcquireLock("L", 1, TimeSpan.Zero))
            {
                Assert.True(again!.Reentered);
                Assert.Equal(held.Token, again.Token);
            }

            Assert.Null(t.Store.AcquireLock("L", 2, TimeSpan.FromMilliseconds(100))); // still held after the re-entry ends
            var listed = Assert.Single(t.Store.ListLocks());
            Assert.Equal(("L", Environment.ProcessId, held.Token), (listed.Name, listed.OwnerPid, listed.Token));
            t.Store.Set("L", "a stack of the same name"u8); // lock names are apart from stack names
        }

        Assert.Empty(t.Store.ListLocks());
        using var other = t.Store.AcquireLock("L", 2, TimeSpan.Zero);
        Assert.NotNull(other);
        Assert.True(t.Store.Verify().IsValid);
    }

    [Fact]
    public async Task A_waiting_holder_gets_the_lock_when_it_is_released_and_its_token_is_greater()
    {
        using var t = new TestStore();
        var first = t.Store.AcquireLock("L", 1, TimeSpan.Zero)!;
        var waiter = Task.Run(() => t.Store.AcquireLock("L", 2, TimeSpan.FromSeconds(60)));
        Assert.True(SpinWait.SpinUntil(() => t.Store.ListLocks()[0].Waiters == 1, TimeSpan.FromSeconds(30)));
        Assert.False(waiter.IsCompleted);
        first.Dispose();
        using var second = await waiter;
        Assert.True(second!.Token > first.Token);
    }

    [Fact]
    public async Task A_lock_wait_ends_at_once_when_cancelled()
    {
        using var t = new TestStore();
        using var first = t.Store.AcquireLock("L", 1, TimeSpan.Zero);
        using var cancel = new CancellationTokenSource();
        var waiter = Task.Run(() => t.Store.AcquireLock("L", 2, Timeout.InfiniteTimeSpan, cancel.Token));
        Assert.True(SpinWait.SpinUntil(() => t.Store.GetStatistics().Waiters == 1, TimeSpan.FromSeconds(30)));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
        Assert.Equal(0, t.Store.GetStatistics().Waiters);
    }

    [Fact]
    public void WaitForChange_returns_at_once_for_another_version_and_times_out_without_a_change()
    {
        using var t = new TestStore();
        var version = t.Store.Set("s", "1"u8);
        Assert.True(t.Store.WaitForChange("s", version - 1, TimeSpan.Zero, default, out var info));
        Assert.Equal(version, info!.Version);
        Assert.False(t.Store.WaitForChange("s", version, TimeSpan.FromMilliseconds(50), default, out info));
        Assert.Null(info);
        Assert.True(t.Store.WaitForChange("missing", 1, TimeSpan.Zero, default, out info));
        Assert.Null(info); // missing now: a removal
    }

    [Fact]
    public async Task WaitForChange_is_woken_by_a_write_from_another_thread()
    {
        using var t = new TestStore();
        var waiter = Task.Run(() => t.Store.WaitForChange("s", 0, TimeSpan.FromSeconds(60), default, out var info) ? info : null);
        Assert.True(SpinWait.SpinUntil(() => t.Store.GetStatistics().Waiters == 1, TimeSpan.FromSeconds(30)));
        var version = t.Store.Set("s", "1"u8);
        Assert.Equal(version, (await waiter)!.Version);
        Assert.Equal(0, t.Store.GetStatistics().Waiters);
    }

    [Fact]
    public async Task A_receive_that_waits_is_woken_by_a_send()
    {
        using var t = new TestStore();
        var receiver = Task.Run(() => t.Store.Receive("q", 5, TimeSpan.FromSeconds(60), default));
        Assert.True(SpinWait.SpinUntil(() => t.Store.GetStatistics().Waiters == 1, TimeSpan.FromSeconds(30)));
        t.Store.Send("q", "x"u8);
        Assert.Single(await receiver);
        Assert.Empty(t.Store.Receive("q", 5, TimeSpan.FromMilliseconds(20), default));
    }
}
