using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using Memalloc.TestHost;
using Xunit;
using Xunit.Abstractions;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// Update turns (issue 10, defect 4; docs/store-design.md, "Update turns"): one holder at a time, across processes;
/// waiters served in the order they came; a holder or a waiter that dies or gives up never holds the others back.
/// Waits are bounded generously; the assertions are on who holds the turn, never on elapsed time.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class UpdateTurnTests : ChildProcessTests
{
    private static readonly TimeSpan s_long = TimeSpan.FromSeconds(30);

    public UpdateTurnTests(ITestOutputHelper output)
        : base(output)
    {
    }

    [Fact]
    public void A_held_turn_keeps_others_out_until_it_is_given_back()
    {
        using var t = new TestStore();
        Assert.False(t.Store.IsUpdateTurnBusy("s"));
        using (var first = t.Store.TakeUpdateTurn("s", s_long))
        {
            Assert.NotNull(first);
            var other = OnThread(() => t.Store.TakeUpdateTurn("s", TimeSpan.FromMilliseconds(200)));
            Assert.Null(other);
            Assert.True(OnThread(() => t.Store.IsUpdateTurnBusy("s")), "another thread sees the turn taken");
        }

        Assert.False(t.Store.IsUpdateTurnBusy("s"), "given back, and the waiter that gave up left no ticket behind");
        using var again = OnThread(() => t.Store.TakeUpdateTurn("s", s_long));
        Assert.NotNull(again);
    }

    [Fact]
    public void Readers_and_plain_writers_never_wait_for_a_turn()
    {
        using var t = new TestStore();
        using var turn = t.Store.TakeUpdateTurn("s", s_long);
        var plain = OnThread(() =>
        {
            t.Store.Set("s", "plain"u8);
            return t.Store.Get("s");
        });
        Assert.Equal("plain"u8.ToArray(), plain);
    }

    [Fact]
    public void Waiters_are_served_in_the_order_they_came()
    {
        using var t = new TestStore();
        var holder = t.Store.TakeUpdateTurn("s", s_long)!;
        var served = new ConcurrentQueue<int>();
        var waiters = new List<Thread>();
        for (var i = 0; i < 4; i++)
        {
            var before = t.Store.UpdateTurnState("s").NextTicket;
            var id = i;
            waiters.Add(Started(() =>
            {
                using var turn = t.Store.TakeUpdateTurn("s", s_long);
                served.Enqueue(turn is null ? -1 : id);
            }));
            // The next waiter starts only once this one holds its ticket.
            Assert.True(SpinWait.SpinUntil(() => t.Store.UpdateTurnState("s").NextTicket != before, s_long));
        }

        holder.Dispose();
        waiters.ForEach(waiter => Assert.True(waiter.Join(s_long)));
        Assert.Equal([0, 1, 2, 3], served.ToArray());
    }

    [Fact]
    public void A_thread_that_holds_a_turn_takes_it_again_without_waiting_for_itself()
    {
        using var t = new TestStore();
        using var outer = t.Store.TakeUpdateTurn("s", s_long);
        using var inner = t.Store.TakeUpdateTurn("s", TimeSpan.Zero);
        Assert.NotNull(inner);
        Assert.False(t.Store.IsUpdateTurnBusy("s"), "this thread holds it: not busy for this thread");
    }

    [SysVFact]
    public void The_turn_of_a_holder_killed_while_holding_it_passes_to_the_next_updater()
    {
        using var t = new TestStore();
        using var host = TestHostProcess.Start("turn", t.StoreName, "s");
        host.WaitForLine(line => line.StartsWith("HELD", StringComparison.Ordinal), s_long);
        Assert.Null(t.Store.TakeUpdateTurn("s", TimeSpan.FromMilliseconds(200)));
        Assert.True(t.Store.IsUpdateTurnBusy("s"));

        host.KillHard();
        using var taken = t.Store.TakeUpdateTurn("s", s_long);
        Assert.NotNull(taken);
        Assert.Equal(WriterLock.OwnWord, t.Store.UpdateTurnState("s").Owner);
    }

    [SysVFact]
    public void A_waiter_killed_while_queued_is_skipped()
    {
        using var t = new TestStore();
        var holder = t.Store.TakeUpdateTurn("s", s_long)!;
        var before = t.Store.UpdateTurnState("s").NextTicket;
        using (var host = TestHostProcess.Start("turn", t.StoreName, "s"))
        {
            Assert.True(SpinWait.SpinUntil(() => t.Store.UpdateTurnState("s").NextTicket != before, s_long), "the host queued\n" + host.Transcript());
            host.KillHard();
        }

        holder.Dispose();
        using var taken = OnThread(() => t.Store.TakeUpdateTurn("s", s_long));
        Assert.NotNull(taken);
    }

    [Fact]
    public void Giving_up_while_queued_behind_others_leaves_them_their_turn()
    {
        using var t = new TestStore();
        var holder = t.Store.TakeUpdateTurn("s", s_long)!;
        UpdateTurn? quit = null;
        UpdateTurn? waited = null;
        var quitter = Started(() => quit = t.Store.TakeUpdateTurn("s", TimeSpan.FromMilliseconds(300)));
        Assert.True(SpinWait.SpinUntil(() => t.Store.UpdateTurnState("s").NextTicket - t.Store.UpdateTurnState("s").Serving == 2, s_long));
        var patient = Started(() => waited = t.Store.TakeUpdateTurn("s", s_long));
        Assert.True(quitter.Join(s_long));
        Assert.Null(quit);
        holder.Dispose();
        Assert.True(patient.Join(s_long));
        Assert.NotNull(waited);
        waited!.Dispose();
    }

    [Fact]
    public void Cancellation_ends_the_wait_and_gives_the_ticket_back()
    {
        using var t = new TestStore();
        using var holder = t.Store.TakeUpdateTurn("s", s_long);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        Exception? thrown = null;
        Assert.True(Started(() =>
        {
            try
            {
                t.Store.TakeUpdateTurn("s", Timeout.InfiniteTimeSpan, cancel.Token);
            }
            catch (OperationCanceledException e)
            {
                thrown = e;
            }
        }).Join(s_long));
        Assert.NotNull(thrown);
        var state = t.Store.UpdateTurnState("s");
        Assert.Equal(1, state.NextTicket - state.Serving);
    }

    private static Thread Started(Action action)
    {
        var thread = new Thread(() => action()) { IsBackground = true };
        thread.Start();
        return thread;
    }

    /// <summary>Runs on another thread (turns are held per thread) and returns its result.</summary>
    private static T OnThread<T>(Func<T> function)
    {
        T result = default!;
        Assert.True(Started(() => result = function()).Join(s_long), "the other thread finished");
        return result;
    }
}
