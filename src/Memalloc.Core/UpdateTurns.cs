using System;
using System.Collections.Concurrent;
using System.Threading;

namespace Memalloc.Core;

/// <summary>
/// A table of <see cref="Layout.TurnCount"/> turns in the anchor page; a stack uses the turn its name hash selects (two
/// stacks that share one only take turns together). Each turn is a ticket lock whose mutual exclusion is a lock word like
/// the writer lock's: the owner word <c>startTimeToken &lt;&lt; 32 | pid</c> is taken by CAS from 0, and a waiter that finds its
/// owner dead clears it by CAS. The tickets (next, serving) only order the waiters, first come first served; when their
/// bookkeeping goes wrong (a waiter died or gave up holding a ticket) it costs a short wait, never exclusion.
/// </summary>
internal static unsafe class UpdateTurns
{
    /// <summary>A ticket whose turn came up but that nobody claimed for this long is taken to be abandoned (its waiter
    /// died or gave up) and skipped. A live waiter polls every millisecond or two, so only a stalled one is skipped, and it
    /// takes a new ticket.</summary>
    private const long AbandonedTicketMs = 250;

    /// <summary>How often a waiter checks whether the owner of the turn is still alive (a few system calls each time).</summary>
    private const long OwnerCheckMs = 5;

    /// <summary>The turns this process holds (anchor key, turn index), with the managed thread that took each: an update
    /// nested in another's script block that needs the same turn goes ahead as its holder instead of waiting for itself.
    /// One entry per turn at most, since the owner word admits one holder per process.</summary>
    private static readonly ConcurrentDictionary<(int, int), int> s_heldInProcess = new();

    private static bool HeldByThisThread(Anchor anchor, int index) =>
        s_heldInProcess.TryGetValue((anchor.Key, index), out var thread) && thread == Environment.CurrentManagedThreadId;

    internal static int TurnIndex(ulong nameHash) => (int)(nameHash >> 57) & (Layout.TurnCount - 1);

    private static byte* Turn(Anchor anchor, int index) => anchor.Address + Layout.TurnTableOffset + (index * Layout.TurnSize);

    private static ref ulong Owner(byte* turn) => ref *(ulong*)(turn + Layout.TurnOwnerOffset);

    private static ref int NextTicket(byte* turn) => ref *(int*)(turn + Layout.TurnNextTicketOffset);

    private static ref int Serving(byte* turn) => ref *(int*)(turn + Layout.TurnServingOffset);

    /// <summary>True when an updater other than this thread holds the turn or waits for it: an optimistic updater then
    /// queues too, rather than slip in between two holders. One or two loads, no system call.</summary>
    internal static bool IsBusy(Anchor anchor, int index)
    {
        if (HeldByThisThread(anchor, index))
        {
            return false;
        }

        var turn = Turn(anchor, index);
        return Volatile.Read(ref Owner(turn)) != 0 || Volatile.Read(ref NextTicket(turn)) != Volatile.Read(ref Serving(turn));
    }

    internal static (ulong Owner, int NextTicket, int Serving) State(Anchor anchor, int index)
    {
        var turn = Turn(anchor, index);
        return (Volatile.Read(ref Owner(turn)), Volatile.Read(ref NextTicket(turn)), Volatile.Read(ref Serving(turn)));
    }

    /// <summary>Waits for the turn, first come first served; null when <paramref name="timeout"/> passed first.
    /// Throws OperationCanceledException when <paramref name="cancellation"/> fires. Takes over one borrow of
    /// <paramref name="anchor"/> (the caller's), which keeps the page mapped until the turn is given back.</summary>
    internal static UpdateTurn? Take(Anchor anchor, int index, TimeSpan timeout, CancellationToken cancellation)
    {
        try
        {
            var turn = TakeCore(anchor, index, timeout, cancellation);
            if (turn is null)
            {
                anchor.Return();
            }

            return turn;
        }
        catch
        {
            anchor.Return();
            throw;
        }
    }

    private static UpdateTurn? TakeCore(Anchor anchor, int index, TimeSpan timeout, CancellationToken cancellation)
    {
        if (HeldByThisThread(anchor, index))
        {
            return new UpdateTurn(anchor.Return); // this thread holds it already (a nested update)
        }

        var turn = Turn(anchor, index);
        var deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        var ticket = Interlocked.Increment(ref NextTicket(turn)) - 1;
        var seenServing = Volatile.Read(ref Serving(turn));
        var servingSince = Environment.TickCount64;
        var lastOwnerCheck = Environment.TickCount64;
        var spinner = default(SpinWait);
        while (true)
        {
            var serving = Volatile.Read(ref Serving(turn));
            var now = Environment.TickCount64;
            if (serving != seenServing)
            {
                seenServing = serving;
                servingSince = now;
            }

            var ahead = unchecked(ticket - serving);
            if (ahead < 0)
            {
                // Skipped while stalled: queue again. The next ticket is never behind the one served unless the counters
                // were broken (a corrupt or foreign page): then move it up first, so that queueing again is one step
                // rather than up to 2^31 of them (which also kept this loop from its timeout and cancellation checks).
                var next = Volatile.Read(ref NextTicket(turn));
                if (unchecked(next - serving) < 0)
                {
                    Interlocked.CompareExchange(ref NextTicket(turn), serving, next);
                }

                ticket = Interlocked.Increment(ref NextTicket(turn)) - 1;
                ahead = unchecked(ticket - serving);
            }

            if (ahead == 0 && Interlocked.CompareExchange(ref Owner(turn), WriterLock.OwnWord, 0) == 0)
            {
                return Held(anchor, index, turn, ticket);
            }

            if (now - lastOwnerCheck >= OwnerCheckMs)
            {
                lastOwnerCheck = now;
                var owner = Volatile.Read(ref Owner(turn));
                if (owner != 0 && WriterLock.IsOwnerDead(owner))
                {
                    // The holder died in its script block: its turn ends here (one waiter wins the CAS and moves it on).
                    // When the turn is already ours, the dead one was a stalled waiter that claimed it late: just clear it.
                    if (Interlocked.CompareExchange(ref Owner(turn), 0, owner) == owner && ahead > 0)
                    {
                        Interlocked.CompareExchange(ref Serving(turn), unchecked(serving + 1), serving);
                    }
                }
                else if (owner == 0 && ahead > 0 && now - servingSince >= AbandonedTicketMs)
                {
                    // Ticket 'serving' came up long ago and nobody claimed it: its waiter is gone.
                    Interlocked.CompareExchange(ref Serving(turn), unchecked(serving + 1), serving);
                }
            }

            if (now >= deadline)
            {
                GiveUp(turn, ticket);
                return null;
            }

            if (cancellation.IsCancellationRequested)
            {
                GiveUp(turn, ticket);
                cancellation.ThrowIfCancellationRequested();
            }

            if (spinner.Count < 20)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
            else
            {
                Thread.Sleep(1);
            }
        }
    }

    private static UpdateTurn Held(Anchor anchor, int index, byte* turn, int ticket)
    {
        s_heldInProcess[(anchor.Key, index)] = Environment.CurrentManagedThreadId;
        var address = (IntPtr)turn;
        return new UpdateTurn(() =>
        {
            // Given back from any thread (an async caller may resume elsewhere): the entry is the turn's, not the thread's.
            var releasing = (byte*)address;
            s_heldInProcess.TryRemove((anchor.Key, index), out _);
            Interlocked.CompareExchange(ref Owner(releasing), 0, WriterLock.OwnWord);
            Interlocked.CompareExchange(ref Serving(releasing), unchecked(ticket + 1), ticket);
            anchor.Return();
        });
    }

    /// <summary>A waiter leaving without its turn: it takes its ticket back when nobody queued after it, and passes the
    /// turn on when it had already come up; otherwise the ticket is skipped as abandoned later.</summary>
    private static void GiveUp(byte* turn, int ticket)
    {
        if (Interlocked.CompareExchange(ref NextTicket(turn), ticket, unchecked(ticket + 1)) != unchecked(ticket + 1))
        {
            Interlocked.CompareExchange(ref Serving(turn), unchecked(ticket + 1), ticket);
        }
    }
}
