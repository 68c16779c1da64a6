using System;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>The view life cycle: which arena this instance reads, following the anchor when another process moved the
/// store to a new arena, and noticing a removal (docs/store-design.md, "Recycling" and "A store removed underneath").</summary>
public sealed unsafe partial class MemStore
{
    /// <summary>How often (at most) the write path asks the kernel whether the store was removed by someone who did not
    /// mark it: the policy and its price are in docs/store-design.md, "A store removed underneath".</summary>
    private const long RemovalCheckIntervalMs = 250;

    private readonly object _viewLock = new();

    /// <summary>The attachments of this instance's arenas: the current one and the one retired before it.</summary>
    private readonly ArenaAttachments _attachments;
    private ArenaView? _current;

    /// <summary>The arena that was current before <see cref="_current"/>, whose attachment is kept: compaction alternates
    /// between two arenas. -1 when none is kept.</summary>
    private int _retiredId = -1;
    private long _lastRemovalCheck;

    /// <summary>The <see cref="AttachmentBudget.Epoch"/> of this instance's last use (only where attachments are limited).</summary>
    private long _usedEpoch;

    /// <summary>When this instance was last used, in rounds of making room (<see cref="AttachmentBudget"/>).</summary>
    internal long UsedEpoch => Volatile.Read(ref _usedEpoch);

    /// <summary>Attaches the arena the anchor names for a new instance, waiting out a destroyer or a growth in flight.</summary>
    private ArenaView AttachCurrent()
    {
        for (var attempt = 0; ; attempt++)
        {
            var arenaRef = _anchor.ArenaRef;
            try
            {
                if (Arena.Attach(_anchor, _uid, arenaRef, _attachments) is { } view)
                {
                    return view;
                }
            }
            catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.Corrupt && _anchor.ArenaRef != arenaRef && attempt < 100)
            {
                continue; // compacted while we attached
            }

            if (_anchor.ArenaRef == arenaRef && attempt < 5000 && IsHeldByLiveProcess(_anchor.LockWord))
            {
                // A live writer holds the lock: a DestroyStore removes the arena before it marks the anchor, so
                // wait for the mark (or a growth's new reference) rather than call the store broken.
                Thread.Sleep(1);
                continue;
            }

            if (_anchor.ArenaRef == arenaRef || attempt >= 100)
            {
                throw arenaRef == Layout.RemovedArenaRef ? Removed(Name) : new MemStoreException(MemStoreErrorKind.StoreRemoved,
                    $"Store '{Name}' is broken: its anchor names arena {_anchor.Arenas.Describe(Anchor.IdOf(arenaRef))}, which no longer exists (removed by 'ipcrm', " +
                    "'rm /dev/shm/...', or by systemd-logind with RemoveIPC=yes). Its data is gone: remove the store (Remove-MemStore, or MemStore.DestroyStore) and it will be created anew.");
            }
        }
    }

    private static bool IsHeldByLiveProcess(ulong lockWord) => lockWord != 0 && !WriterLock.IsOwnerDead(lockWord);

    /// <summary>Takes a reference on the current arena view, following the anchor to a new generation when it moved, and
    /// attaching again when the instance was parked. No system call unless the generation changed or it was parked.</summary>
    private ArenaView Enter()
    {
        while (true)
        {
            var view = Volatile.Read(ref _current);
            if (view is null)
            {
                Unpark(); // throws ObjectDisposedException once disposed
                continue;
            }

            if (AttachmentBudget.IsActive)
            {
                var epoch = AttachmentBudget.Epoch;
                if (_usedEpoch != epoch)
                {
                    Volatile.Write(ref _usedEpoch, epoch);
                }
            }

            if (!view.TryEnter())
            {
                continue; // replaced and released in between: read the current view again
            }

            if (view.Anchor.ArenaRef == view.ArenaRef)
            {
                return view;
            }

            view.Exit();
            Follow();
        }
    }

    /// <summary>Attaches the arena the anchor names now and makes it current (releasing the store's reference on the old
    /// view, which is detached once no operation uses it any more).</summary>
    private void Follow()
    {
        lock (_viewLock)
        {
            var old = Volatile.Read(ref _current);
            if (old is null)
            {
                return; // parked or disposed meanwhile: Enter attaches again or throws
            }

            for (var attempt = 0; attempt < 100; attempt++)
            {
                var arenaRef = _anchor.ArenaRef;
                if (arenaRef == old.ArenaRef)
                {
                    return;
                }

                if (arenaRef == Layout.RemovedArenaRef)
                {
                    throw Removed(Name);
                }

                ArenaView? view;
                try
                {
                    view = Arena.Attach(_anchor, _uid, arenaRef, _attachments);
                }
                catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.Corrupt && _anchor.ArenaRef != arenaRef)
                {
                    continue; // recycled again between our load of the reference and the attach: follow again
                }

                if (view is not null)
                {
                    Replace(old, view);
                    return;
                }

                if (_anchor.ArenaRef == arenaRef)
                {
                    // The anchor names an arena that no longer exists: removed underneath us (ipcrm).
                    throw Removed(Name);
                }
            }

            throw Removed(Name);
        }
    }

    /// <summary>Makes a view this process just built by growing current (the store keeps its own reference).</summary>
    private void AdoptGrown(ArenaView grown)
    {
        lock (_viewLock)
        {
            var old = Volatile.Read(ref _current);
            if (old is null || old.ArenaRef == grown.ArenaRef || !grown.TryAddReference())
            {
                return;
            }

            Replace(old, grown);
        }
    }

    /// <summary>Makes <paramref name="next"/> current (its reference becomes the store's) and keeps the old arena's
    /// attachment as the retired one when it can come back as a recycled spare: only an arena of the same size can, and
    /// holding any other would keep its memory alive. Caller holds <see cref="_viewLock"/>.</summary>
    private void Replace(ArenaView old, ArenaView next)
    {
        Volatile.Write(ref _current, next);
        _retiredId = old.Id != next.Id && old.Capacity == next.Capacity && next.Anchor.Arenas.KeepsSpare(old.Capacity) ? old.Id : -1;
        _attachments.KeepOnly(next.Id, _retiredId);
        old.Release();
    }

    /// <summary>
    /// Lets go of every attachment of this instance when nobody is using it (the attachment budget asks, to stay within
    /// kern.sysv.shmseg: docs/store-design.md, "Attachments within shmseg"); the next call attaches again. False when it is
    /// parked or disposed already, in use, or its view lock is taken (never waited for: the caller may hold another
    /// store's). A call that entered just before is safe: its view keeps what it borrowed mapped until it leaves.
    /// </summary>
    internal bool TryPark()
    {
        if (Monitor.IsEntered(_viewLock) || !Monitor.TryEnter(_viewLock))
        {
            return false;
        }

        try
        {
            var view = Volatile.Read(ref _current);
            if (view is null || view.InUse)
            {
                return false;
            }

            Volatile.Write(ref _current, null);
            view.Release();
            _retiredId = -1;
            _attachments.KeepOnly(-1, -1);
            _anchor.Dispose();
            return true;
        }
        finally
        {
            Monitor.Exit(_viewLock);
        }
    }

    /// <summary>Attaches a parked instance again: its anchor (the same store, or StoreRemoved) and the arena it names.</summary>
    private void Unpark()
    {
        lock (_viewLock)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                throw new ObjectDisposedException(nameof(MemStore), $"Store '{Name}' was disposed.");
            }

            if (Volatile.Read(ref _current) is not null)
            {
                return;
            }

            var parked = _anchor;
            _anchor = Anchor.Reattach(parked, _uid, Name, _created);
            try
            {
                Volatile.Write(ref _current, AttachCurrent());
            }
            catch
            {
                _anchor.Dispose();
                _anchor = parked;
                throw;
            }
        }
    }

    private static MemStoreException Removed(string name) => new(MemStoreErrorKind.StoreRemoved,
        $"Store '{name}' was removed while open (by Remove-MemStore or DestroyStore, by 'ipcrm', or by systemd-logind with RemoveIPC=yes when the user's last session ended). " +
        "Open it again to start a new, empty store.");

    /// <summary>
    /// Asks the kernel (one IPC_STAT) whether this store's segments were removed underneath this process, and throws
    /// <see cref="MemStoreErrorKind.StoreRemoved"/> if so. A removal through <see cref="DestroyStore"/> is seen by every
    /// call at once, but one from outside (ipcrm, systemd-logind's RemoveIPC) leaves the mapping working and only
    /// IPC_STAT can tell; writes ask only now and then (docs/store-design.md, "A store removed underneath"). A caller
    /// that must not report a write as done when it went into removed segments calls this after the write.
    /// </summary>
    public void EnsureNotRemoved()
    {
        var view = Enter();
        try
        {
            CheckNotRemoved(view, force: true, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }
        finally
        {
            view.Exit();
        }
    }

    /// <summary>The kernel's view of the anchor, asked at most every <see cref="RemovalCheckIntervalMs"/> ms on the write
    /// path. The caller holds an operation reference on <paramref name="view"/> (the arena it is about to use), which
    /// also keeps the anchor mapped.</summary>
    private void CheckNotRemoved(ArenaView view, bool force, long now)
    {
        if (!force && now - Volatile.Read(ref _lastRemovalCheck) < RemovalCheckIntervalMs)
        {
            return;
        }

        Volatile.Write(ref _lastRemovalCheck, now);
        var anchor = view.Anchor;
        if (!Libc.TryStat(anchor.ShmId, out var status, out _) || status.Key != anchor.Key || status.IsMarkedForRemoval)
        {
            throw Removed(Name);
        }

        // The arena can be removed alone (ipcrm of its shmid, shm_unlink of its object). A growth also removes the arena
        // it replaces, but only after publishing the new one: so a removed arena that the anchor still names is a removal
        // from outside.
        if (anchor.Arenas.IsRemoved(view.Attachment) && anchor.ArenaRef == view.ArenaRef)
        {
            throw Removed(Name);
        }
    }
}
