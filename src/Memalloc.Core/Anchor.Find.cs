using System;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>Finding a store's anchor: probing its keys, waiting for a creator, skipping what is not ours.</summary>
internal sealed unsafe partial class Anchor
{
    /// <summary>How long an opener waits for a live process to finish creating an anchor before it gives up with
    /// <see cref="MemStoreErrorKind.StoreBusy"/> (settable by tests).</summary>
    internal static TimeSpan CreationWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A creator claims its new anchor's lock word right after attaching it (microseconds after shmget). A
    /// segment with magic 0 whose lock word is still 0 after this long is not being created by Memalloc: another
    /// program's segment at a colliding key, probed past as any foreign segment is.</summary>
    private static readonly TimeSpan s_claimWait = TimeSpan.FromSeconds(1);

    /// <summary>Scans every probe key for an anchor that passes the identity checks. <paramref name="freeKey"/> is the
    /// first probe key with no segment at all (0 when every probe is taken).</summary>
    internal static Anchor? Find(uint uid, string storeName, out int freeKey)
    {
        freeKey = 0;
        for (var probe = 0; probe < KeyDerivation.AnchorProbes; probe++)
        {
            var key = KeyDerivation.AnchorKey(uid, storeName, probe);
            var shmId = Libc.ShmLookup(key, out var errno);
            if (shmId < 0)
            {
                if (errno == Libc.ENOENT)
                {
                    if (freeKey == 0)
                    {
                        freeKey = key;
                    }

                    continue;
                }

                if (errno == Libc.EACCES || errno == Libc.EPERM || errno == Libc.EINVAL)
                {
                    continue; // someone else's segment at our key (squatting or a collision): skip it
                }

                throw Libc.Failure("shmget", errno, $"Looking for store '{storeName}'");
            }

            var anchor = TryAttach(shmId, key, uid, storeName, out var abandoned);
            if (anchor is not null)
            {
                return anchor;
            }

            if (abandoned && freeKey == 0)
            {
                freeKey = key;
            }
        }

        return null;
    }

    /// <summary>The name of the store whose anchor is segment <paramref name="shmId"/> at <paramref name="key"/> (a listing
    /// of the kernel's segments found it), or null when that is not a live anchor of <paramref name="uid"/>'s: the same
    /// ownership and identity checks as <see cref="Find"/>, nothing written, no wait for a creator.</summary>
    internal static string? TryReadStoreName(int shmId, int key, uint uid)
    {
        if (!Libc.TryStat(shmId, out var status, out _) || !status.IsOwnedBy(uid, Layout.AnchorSize) || status.Size != Layout.AnchorSize)
        {
            return null;
        }

        using var attachment = AttachOrSkip(shmId, status.Size, "Reading a store's name");
        if (attachment is null)
        {
            return null;
        }

        var address = attachment.Address;
        var name = ReadStoreName(address);
        return name is not null && StoreName.IsValid(name) && HasIdentity(address, key, uid, name)
            && Volatile.Read(ref *(ulong*)(address + Layout.ArenaRefOffset)) != Layout.RemovedArenaRef
            ? name
            : null;
    }

    /// <summary>Attaches the segment if it is our anchor for this store; null otherwise (nothing written).
    /// <paramref name="abandoned"/> tells that it was a half-created anchor of a dead process, now removed.</summary>
    private static Anchor? TryAttach(int shmId, int key, uint uid, string storeName, out bool abandoned)
    {
        abandoned = false;
        if (!Libc.TryStat(shmId, out var status, out _) || !status.IsOwnedBy(uid, Layout.AnchorSize) || status.Size != Layout.AnchorSize)
        {
            return null;
        }

        var attachment = AttachOrSkip(shmId, status.Size, $"Opening store '{storeName}'");
        if (attachment is null)
        {
            return null;
        }

        try
        {
            var address = attachment.Address;
            if (Volatile.Read(ref *(ulong*)address) == 0)
            {
                var creation = AwaitCreator(address, shmId, status.CreatorPid, storeName);
                if (creation != Creation.Finished)
                {
                    abandoned = creation == Creation.Abandoned;
                    return null;
                }
            }

            if (!HasIdentity(address, key, uid, storeName))
            {
                return null;
            }

            if (Volatile.Read(ref *(ulong*)(address + Layout.ArenaRefOffset)) == Layout.RemovedArenaRef)
            {
                // Marked removed but still at its key: its destroyer holds the lock until the anchor is removed, so a
                // free word or a dead owner means the destroyer was killed. Its arena is already gone: finish the job.
                var word = Volatile.Read(ref *(ulong*)(address + Layout.LockWordOffset));
                if (word == 0 || WriterLock.IsOwnerDead(word))
                {
                    Libc.Remove(shmId);
                    abandoned = true;
                }

                return null;
            }

            var anchor = new Anchor(attachment, key);
            attachment = null; // the anchor owns it now
            return anchor;
        }
        finally
        {
            attachment?.Dispose();
        }
    }

    /// <summary>
    /// Attaches a segment a probe or a listing found, within the process's attachment budget. Null when it is gone
    /// (EINVAL, EIDRM) or not ours to attach (EACCES): skipped. Any other failure is thrown: an EMFILE (over
    /// kern.sysv.shmseg), ENOMEM or ENOSPC is a capacity error naming the limit, never "not our store", which would send
    /// an opener on to the next probe to create a second anchor for the same store.
    /// </summary>
    private static SharedMemoryAttachment? AttachOrSkip(int shmId, long size, string what)
    {
        var attachment = AttachmentBudget.Attach(shmId, size, null, out var errno);
        return attachment is not null || Libc.IsGone(errno) || errno == Libc.EACCES ? attachment : throw Libc.Failure("shmat", errno, what);
    }

    /// <summary>
    /// Attaches again the anchor of a store instance that was parked (<see cref="MemStore.TryPark"/>): the same segment
    /// (shmid), still this store's anchor (the checks of <see cref="Find"/>) and still the same store (its creation time:
    /// a store removed and made again at the same key and shmid is another store). StoreRemoved otherwise.
    /// </summary>
    internal static Anchor Reattach(Anchor parked, uint uid, string storeName, long created)
    {
        var anchor = TryAttach(parked.ShmId, parked.Key, uid, storeName, out _);
        if (anchor is not null && anchor.Created == created)
        {
            return anchor;
        }

        anchor?.Dispose();
        throw new MemStoreException(MemStoreErrorKind.StoreRemoved,
            $"Store '{storeName}' was removed while open (by Remove-MemStore or DestroyStore, by 'ipcrm', or by systemd-logind with RemoveIPC=yes when the user's last session ended). " +
            "Open it again to start a new, empty store.");
    }

    private enum Creation
    {
        /// <summary>The magic is set: check the identity as for any anchor.</summary>
        Finished,
        /// <summary>Its creator died or removed it: gone now, its key is free for a new anchor.</summary>
        Abandoned,
        /// <summary>Not an anchor being created by Memalloc: probe past it.</summary>
        Foreign,
    }

    /// <summary>
    /// Waits while a live creator initialises the anchor at this probe (magic still 0). Never gives up on a live
    /// creator by moving on to a later probe: that would create a second anchor for the store, which both would then
    /// use. A dead creator's segment is removed (its key becomes free for this opener); a creator that is alive but
    /// does not finish within <see cref="CreationWait"/> (stopped, starved) is reported as StoreBusy.
    /// Liveness comes from the lock word the creator claims at once (pid and start time: a reused pid is dead), or,
    /// in the microseconds before the claim, from the segment's creator pid.
    /// </summary>
    private static Creation AwaitCreator(byte* address, int shmId, int creatorPid, string storeName)
    {
        var started = Environment.TickCount64;
        while (true)
        {
            for (var spin = 0; spin < 10 && Volatile.Read(ref *(ulong*)address) == 0; spin++)
            {
                Thread.Sleep(1);
            }

            if (Volatile.Read(ref *(ulong*)address) != 0)
            {
                return Creation.Finished;
            }

            if (!Libc.TryStat(shmId, out var status, out _) || status.IsMarkedForRemoval)
            {
                return Creation.Abandoned; // the creator failed and removed it: the key is free again
            }

            var word = Volatile.Read(ref *(ulong*)(address + Layout.LockWordOffset));
            var waited = Environment.TickCount64 - started;
            if (word == 0 ? ProcessIdentity.IsDead(creatorPid) : WriterLock.IsOwnerDead(word))
            {
                Libc.Remove(shmId);
                return Creation.Abandoned;
            }

            if (word == 0 && waited > s_claimWait.TotalMilliseconds)
            {
                return Creation.Foreign;
            }

            if (waited > CreationWait.TotalMilliseconds)
            {
                var pid = word == 0 ? creatorPid : WriterLock.OwnerPid(word);
                throw new MemStoreException(MemStoreErrorKind.StoreBusy,
                    $"Store '{storeName}' is being created by process {pid}, which is alive but has not finished after {waited / 1000.0:0.#} s " +
                    $"(stopped, or starved of CPU or memory). Try again once it runs; if it is stuck, end it, or remove its half-made segment {shmId} with 'ipcrm -m {shmId}'.");
            }
        }
    }
}
