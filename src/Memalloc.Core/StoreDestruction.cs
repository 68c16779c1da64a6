using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// Tearing a store down (MemStore.DestroyStore and Destroy), next to the anchor it marks and removes: under the writer
/// lock, so that no growth publishes behind it, the spare and the arena go first, then the anchor is marked removed
/// (the mark is what other processes' open instances see without a system call), then the anchor goes
/// (docs/store-design.md, "A store removed underneath").
/// </summary>
internal static class StoreDestruction
{
    internal static unsafe void Destroy(Anchor anchor, uint uid)
    {
        lock (WriterLock.ProcessLockFor(anchor.Key))
        {
            WriterLock.Acquire(anchor.Address);
            try
            {
                CrashPoints.Hit?.Invoke("destroy.after-lock");

                // A backing this version does not know (Corrupt): its arenas cannot be found, but the store can still go.
                var arenas = TryArenas(anchor);
                if (arenas is not null && anchor.State == WriterState.Growing)
                {
                    Compaction.RecoverGrowth(anchor, uid);
                }
                var spare = anchor.SpareRef;
                if (arenas is not null && spare != 0 && arenas.IsOurs(anchor, uid, Anchor.IdOf(spare)))
                {
                    arenas.Remove(Anchor.IdOf(spare));
                }

                // The arena goes first, while the anchor still names it: a destroyer killed after this leaves an
                // anchor whose arena is gone (Open says StoreRemoved, DestroyStore finishes the job); killed after the
                // mark below, a marked anchor that the next Find removes. Marking first would lose the only
                // reference to the arena, leaking it until reboot.
                var arenaRef = anchor.ArenaRef;
                if (arenas is not null && arenaRef != Layout.RemovedArenaRef)
                {
                    arenas.RemoveOwned(uid, Anchor.IdOf(arenaRef));
                }

                CrashPoints.Hit?.Invoke("destroy.after-arena-rmid");
                anchor.ArenaRef = Layout.RemovedArenaRef;
                anchor.State = WriterState.Idle;
                CrashPoints.Hit?.Invoke("destroy.after-mark");
                WaitBuckets.WakeAllWaited(anchor.Address); // waiters look again and meet the removal
                var errno = Libc.Remove(anchor.ShmId);
                if (errno != 0 && !Libc.IsGone(errno))
                {
                    throw Libc.Failure("shmctl", errno, "Removing the store's anchor");
                }
            }
            finally
            {
                // Writers of other processes may be waiting on the word: let them in to see the removal mark.
                WriterLock.Release(anchor.Address);
            }
        }
    }

    private static ArenaSegments? TryArenas(Anchor anchor)
    {
        try
        {
            return anchor.Arenas;
        }
        catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.Corrupt)
        {
            return null;
        }
    }
}
