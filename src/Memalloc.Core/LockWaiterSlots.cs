using System.Collections.Generic;
using System.Threading;

namespace Memalloc.Core;

/// <summary>
/// The lock-waiter slots in the anchor page (512..1023): a Use-MemLock waiter holds one while it waits, naming its
/// process and the lock, so that Get-MemLock can count the live waiters of each lock. Only for counting: nothing waits
/// on these words and exclusion never depends on them. A waiter that finds every slot taken waits uncounted.
/// Slots of dead processes are freed by whoever meets them (docs/coordination-design.md, "Get-MemLock").
/// </summary>
internal static unsafe class LockWaiterSlots
{
    private static byte* Slot(byte* anchor, int index) =>
        anchor + CoordinationLayout.LockWaiterTableOffset + (index * CoordinationLayout.LockWaiterSize);

    private static ref ulong Owner(byte* slot) => ref *(ulong*)(slot + CoordinationLayout.LockWaiterOwnerOffset);

    private static ref ulong Hash(byte* slot) => ref *(ulong*)(slot + CoordinationLayout.LockWaiterHashOffset);

    /// <summary>Takes a free slot for a waiter of this process on the lock whose record name hashes to
    /// <paramref name="lockHash"/>; -1 when all are taken (after freeing those of dead processes).</summary>
    internal static int Claim(byte* anchor, ulong lockHash)
    {
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < CoordinationLayout.LockWaiterCount; i++)
            {
                var slot = Slot(anchor, i);
                if (Volatile.Read(ref Owner(slot)) == 0 && Interlocked.CompareExchange(ref Owner(slot), WriterLock.OwnWord, 0) == 0)
                {
                    // Readers skip free slots; one that reads this slot between the two stores counts a stale hash
                    // once, which "where known" allows.
                    Volatile.Write(ref Hash(slot), lockHash);
                    return i;
                }
            }

            if (pass == 0)
            {
                CountLive(anchor); // frees the slots of dead processes
            }
        }

        return -1;
    }

    /// <summary>Gives a slot back (-1: nothing was claimed).</summary>
    internal static void Release(byte* anchor, int index)
    {
        if (index >= 0)
        {
            Interlocked.CompareExchange(ref Owner(Slot(anchor, index)), 0, WriterLock.OwnWord);
        }
    }

    /// <summary>Live waiters per lock record name hash; frees the slots of dead processes on the way (the liveness of
    /// each distinct process is asked once).</summary>
    internal static Dictionary<ulong, int> CountLive(byte* anchor)
    {
        var counts = new Dictionary<ulong, int>();
        var dead = new Dictionary<ulong, bool>();
        for (var i = 0; i < CoordinationLayout.LockWaiterCount; i++)
        {
            var slot = Slot(anchor, i);
            var owner = Volatile.Read(ref Owner(slot));
            if (owner == 0)
            {
                continue;
            }

            if (!dead.TryGetValue(owner, out var isDead))
            {
                isDead = owner != WriterLock.OwnWord && WriterLock.IsOwnerDead(owner);
                dead[owner] = isDead;
            }

            if (isDead)
            {
                Interlocked.CompareExchange(ref Owner(slot), 0, owner);
                continue;
            }

            var hash = Volatile.Read(ref Hash(slot));
            counts[hash] = counts.GetValueOrDefault(hash) + 1;
        }

        return counts;
    }
}
