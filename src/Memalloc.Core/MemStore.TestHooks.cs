using System;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>What the tests reach in a store: its keys and segments, its update turns, and its memory to corrupt.</summary>
public sealed unsafe partial class MemStore
{
    internal int AnchorKey => _anchor.Key;

    /// <summary>The anchor key a store of the current user would use at <paramref name="probe"/> (0..15): lets hostile-segment
    /// tests plant a foreign segment where the store will look.</summary>
    internal static int AnchorKeyFor(string storeName, int probe) => KeyDerivation.AnchorKey(Libc.GetUid(), storeName, probe);

    internal int AnchorShmId => _anchor.ShmId;

    /// <summary>The update turn a stack name uses, as its words read now (tests watch the queue through it).</summary>
    internal (ulong Owner, int NextTicket, int Serving) UpdateTurnState(string name)
    {
        var view = Enter();
        try
        {
            return UpdateTurns.State(view.Anchor, UpdateTurns.TurnIndex(StackName.Hash(name)));
        }
        finally
        {
            view.Exit();
        }
    }

    /// <summary>Id (shmid or object number) of the spare arena kept for recycling, or -1 (tests counting a store's segments
    /// need it).</summary>
    internal int SpareShmId
    {
        get
        {
            var view = Enter();
            try
            {
                var spare = view.Anchor.SpareRef;
                return spare == 0 ? -1 : Anchor.IdOf(spare);
            }
            finally
            {
                view.Exit();
            }
        }
    }

    /// <summary>Runs <paramref name="action"/> with the current arena's address and capacity (tests corrupt bytes through it).</summary>
    internal void WithArena(Action<IntPtr, long> action)
    {
        var view = Enter();
        try
        {
            action((IntPtr)view.Address, view.Capacity);
        }
        finally
        {
            view.Exit();
        }
    }

    /// <summary>Waiters registered on one wait bucket now (the wake-latency benchmark waits for its waiter with it).</summary>
    internal int BucketWaiters(int bucket) => WaitBuckets.State(_anchor.Address, bucket).Waiters;

    /// <summary>Runs <paramref name="action"/> with the anchor's address (tests corrupt or inspect it).</summary>
    internal void WithAnchor(Action<IntPtr> action)
    {
        var view = Enter();
        try
        {
            action((IntPtr)view.Anchor.Address);
        }
        finally
        {
            view.Exit();
        }
    }
}
