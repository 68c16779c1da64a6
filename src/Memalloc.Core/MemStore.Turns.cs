using System;
using System.Threading;

namespace Memalloc.Core;

/// <summary>Update turns: the queue an updater that keeps losing its compare-and-set joins (docs/store-design.md,
/// "Update turns"). Readers and plain writers never look at them.</summary>
public sealed partial class MemStore
{
    /// <summary>Shared-memory stores have update turns.</summary>
    public bool HasUpdateTurns => true;

    IDisposable? Backends.IStackStore.TakeUpdateTurn(string name, TimeSpan timeout, CancellationToken cancellation) =>
        TakeUpdateTurn(name, timeout, cancellation);

    /// <summary>True when another updater holds the update turn of this stack or waits for it (docs/store-design.md,
    /// "Update turns"): an updater then queues for the turn instead of racing. One or two loads, no system call.</summary>
    public bool IsUpdateTurnBusy(string name)
    {
        var view = Enter();
        try
        {
            return UpdateTurns.IsBusy(view.Anchor, UpdateTurns.TurnIndex(StackName.Hash(name)));
        }
        finally
        {
            view.Exit();
        }
    }

    /// <summary>Waits for the update turn of this stack, first come first served, however many processes wait; null when
    /// <paramref name="timeout"/> (or <see cref="Timeout.InfiniteTimeSpan"/>) passed first. Disposing the result gives
    /// the turn back; a holder that dies gives it back by dying. Readers and plain writers never wait for a turn.</summary>
    public UpdateTurn? TakeUpdateTurn(string name, TimeSpan timeout, CancellationToken cancellation = default)
    {
        var index = UpdateTurns.TurnIndex(StackName.Hash(name));
        var view = Enter();
        var anchor = view.Anchor;
        try
        {
            anchor.Borrow(); // handed to the turn: the anchor page stays mapped while it is waited for and held
        }
        finally
        {
            view.Exit();
        }

        return UpdateTurns.Take(anchor, index, timeout, cancellation);
    }
}
