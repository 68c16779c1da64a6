using System;
using System.IO.Hashing;
using System.Text;
using System.Threading;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>
/// Found by the fuzzer (AFL++ on tests/Memalloc.Fuzz, ten hangs in five minutes): a turn whose ticket being served lies
/// far past the next ticket to hand out (a corrupt or foreign anchor page) made <see cref="MemStore.TakeUpdateTurn"/>
/// take one ticket after another until the counters met, up to 2^31 of them, ignoring its timeout and cancellation.
/// The tickets only order waiters: broken ones must cost a short wait, never a hang.
/// </summary>
public sealed class BrokenTurnTicketsTests
{
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1 << 30)]
    [InlineData(3)]
    public void A_turn_whose_served_ticket_is_past_the_next_is_taken_without_waiting_for_the_counters_to_meet(int gap)
    {
        using var t = new TestStore();
        t.Store.WithAnchor(anchor => Break(anchor, "s", gap));
        UpdateTurn? taken = null;
        var taker = new Thread(() => taken = t.Store.TakeUpdateTurn("s", TimeSpan.FromMilliseconds(50)));
        taker.Start();
        // Generous: the wait is for microseconds; the defect spun through up to 2^31 tickets for many seconds.
        Assert.True(taker.Join(TimeSpan.FromSeconds(5)), $"TakeUpdateTurn with a 50 ms timeout had not returned after 5 s (tickets {gap} apart)");
        using (var turn = taken)
        {
            Assert.NotNull(turn); // nobody holds it: the broken counters are repaired and the turn taken
        }

        Assert.False(t.Store.IsUpdateTurnBusy("s"), "given back, the turn's counters agree again");
    }

    /// <summary>Moves the turn's ticket being served <paramref name="gap"/> past its next ticket.</summary>
    private static unsafe void Break(IntPtr anchor, string name, int gap)
    {
        var index = UpdateTurns.TurnIndex(XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(name)));
        var turn = (byte*)anchor + Layout.TurnTableOffset + (index * Layout.TurnSize);
        var next = *(int*)(turn + Layout.TurnNextTicketOffset);
        *(int*)(turn + Layout.TurnServingOffset) = unchecked(next + gap);
    }
}
