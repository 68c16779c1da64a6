using System;
using System.Text;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// The store's anchor segment: identity, writer lock word, writer state and the reference to the current arena.
/// One page at a key derived from (uid, store name, probe). Reference-counted: every attached arena view holds the
/// anchor, so that a reader still copying from a view never sees the anchor detached under it.
/// </summary>
internal sealed unsafe class Anchor
{
    /// <summary>How long an opener waits for a live process to finish creating an anchor before it gives up with
    /// <see cref="MemStoreErrorKind.StoreBusy"/> (settable by tests).</summary>
    internal static TimeSpan CreationWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A creator claims its new anchor's lock word right after attaching it (microseconds after shmget). A
    /// segment with magic 0 whose lock word is still 0 after this long is not being created by Memalloc: another
    /// program's segment at a colliding key, probed past as any foreign segment is.</summary>
    private static readonly TimeSpan s_claimWait = TimeSpan.FromSeconds(1);

    private int _references = 1;

    private Anchor(byte* address, int shmId, int key)
    {
        Address = address;
        ShmId = shmId;
        Key = key;
    }

    internal byte* Address { get; }

    internal int ShmId { get; }

    internal int Key { get; }

    internal ulong ArenaRef
    {
        get => Volatile.Read(ref *(ulong*)(Address + Layout.ArenaRefOffset));
        set => Volatile.Write(ref *(ulong*)(Address + Layout.ArenaRefOffset), value);
    }

    /// <summary>The retired arena kept for the next compaction (0 = none). Only the lock holder reads or writes it.</summary>
    internal ulong SpareRef
    {
        get => Volatile.Read(ref *(ulong*)(Address + Layout.SpareRefOffset));
        set => Volatile.Write(ref *(ulong*)(Address + Layout.SpareRefOffset), value);
    }

    internal WriterState State
    {
        get => (WriterState)Volatile.Read(ref *(uint*)(Address + Layout.WriterStateOffset));
        set => Volatile.Write(ref *(uint*)(Address + Layout.WriterStateOffset), (uint)value);
    }

    internal long MaxCapacity => *(long*)(Address + Layout.AnchorMaxCapacityOffset);

    /// <summary>Capacity of the store's first arena, the floor compaction never shrinks below; 0 for a store created before
    /// it was recorded.</summary>
    internal long InitialCapacity => *(long*)(Address + Layout.AnchorInitialCapacityOffset);

    /// <summary>The maximum capacity, for computing with: Corrupt when outside what any store can have.</summary>
    internal long CheckedMaxCapacity()
    {
        var maximum = MaxCapacity;
        return Layout.IsValidMaxCapacity(maximum) ? maximum : throw new MemStoreException(MemStoreErrorKind.Corrupt,
            $"The store is corrupt: its anchor's maximum capacity {maximum} is outside {Arena.MinCapacity}..{Layout.MaxCapacityLimit} bytes. Nothing was changed; run Verify, or remove the store.");
    }

    internal uint PendingGeneration
    {
        get => *(uint*)(Address + Layout.PendingGenerationOffset);
        set => *(uint*)(Address + Layout.PendingGenerationOffset) = value;
    }

    internal int PendingKey
    {
        get => *(int*)(Address + Layout.PendingKeyOffset);
        set => *(int*)(Address + Layout.PendingKeyOffset) = value;
    }

    internal int PendingShmId
    {
        get => *(int*)(Address + Layout.PendingShmIdOffset);
        set => *(int*)(Address + Layout.PendingShmIdOffset) = value;
    }

    /// <summary>Size of the segment a growth creates at <see cref="PendingKey"/> (0: unknown, as in anchors written before
    /// it was recorded): recovery takes an uninitialised segment at that key for the crashed growth's only at this size.</summary>
    internal long PendingCapacity
    {
        get => *(long*)(Address + Layout.PendingCapacityOffset);
        set => *(long*)(Address + Layout.PendingCapacityOffset) = value;
    }

    internal int PreviousShmId
    {
        get => *(int*)(Address + Layout.PreviousShmIdOffset);
        set => *(int*)(Address + Layout.PreviousShmIdOffset) = value;
    }

    internal ulong LockWord => Volatile.Read(ref *(ulong*)(Address + Layout.LockWordOffset));

    internal static uint GenerationOf(ulong arenaRef) => (uint)(arenaRef >> 32);

    internal static int ShmIdOf(ulong arenaRef) => (int)(uint)arenaRef;

    internal static ulong MakeArenaRef(uint generation, int shmId) => ((ulong)generation << 32) | (uint)shmId;

    internal void AddReference() => Interlocked.Increment(ref _references);

    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Libc.ShmDt(Address);
        }
    }

    /// <summary>True when IPC_STAT says a segment may be ours: owner and creator are us, no group/other bits, and
    /// at least the size we need. Everything else is never attached.</summary>
    internal static bool IsOwnedByUs(in SegmentStatus status, uint uid, long minimumSize) =>
        status.Uid == uid && status.Cuid == uid && (status.Mode & 0x3F) == 0 && status.Size >= minimumSize;

    /// <summary>Scans every probe key for an anchor that passes the identity checks. <paramref name="freeKey"/> is the
    /// first probe key with no segment at all (0 when every probe is taken).</summary>
    internal static Anchor? Find(uint uid, string storeName, out int freeKey)
    {
        Libc.EnsureInitialized();
        freeKey = 0;
        for (var probe = 0; probe < KeyDerivation.AnchorProbes; probe++)
        {
            var key = KeyDerivation.AnchorKey(uid, storeName, probe);
            var shmId = Libc.ShmGet(key, 0, 0, out var errno);
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

    /// <summary>Attaches the segment if it is our anchor for this store; null otherwise (nothing written).
    /// <paramref name="abandoned"/> tells that it was a half-created anchor of a dead process, now removed.</summary>
    private static Anchor? TryAttach(int shmId, int key, uint uid, string storeName, out bool abandoned)
    {
        abandoned = false;
        if (!Libc.TryStat(shmId, out var status, out _) || !IsOwnedByUs(status, uid, Layout.AnchorSize) || status.Size != Layout.AnchorSize)
        {
            return null;
        }

        var address = Libc.ShmAt(shmId, out _);
        if (address == null)
        {
            return null;
        }

        if (Volatile.Read(ref *(ulong*)address) == 0)
        {
            Creation creation;
            try
            {
                creation = AwaitCreator(address, shmId, status.CreatorPid, storeName);
            }
            catch
            {
                Libc.ShmDt(address);
                throw;
            }

            if (creation != Creation.Finished)
            {
                Libc.ShmDt(address);
                abandoned = creation == Creation.Abandoned;
                return null;
            }
        }

        if (!HasIdentity(address, key, uid, storeName))
        {
            Libc.ShmDt(address);
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

            Libc.ShmDt(address);
            return null;
        }

        return new Anchor(address, shmId, key);
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

            if (!Libc.TryStat(shmId, out var status, out _) || ArenaView.IsMarkedForRemoval(status))
            {
                return Creation.Abandoned; // the creator failed and removed it: the key is free again
            }

            var word = Volatile.Read(ref *(ulong*)(address + Layout.LockWordOffset));
            var waited = Environment.TickCount64 - started;
            if (word == 0 ? !Libc.ProcessExists(creatorPid) || WriterLock.IsZombie(creatorPid) : WriterLock.IsOwnerDead(word))
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

    internal static bool HasIdentity(byte* address, int key, uint uid, string storeName)
    {
        if (*(ulong*)(address + Layout.AnchorMagicOffset) != Layout.AnchorMagic
            || *(uint*)(address + Layout.AnchorVersionOffset) != Layout.LayoutVersion
            || *(uint*)(address + Layout.AnchorSizeOffset) != Layout.AnchorSize
            || *(uint*)(address + Layout.AnchorOwnerUidOffset) != uid
            || *(int*)(address + Layout.AnchorKeyOffset) != key)
        {
            return false;
        }

        var length = *(uint*)(address + Layout.AnchorStoreNameLengthOffset);
        if (length != storeName.Length)
        {
            return false;
        }

        var stored = new ReadOnlySpan<byte>(address + Layout.AnchorStoreNameOffset, (int)length);
        Span<byte> expected = stackalloc byte[Layout.StoreNameMaxLength];
        var written = Encoding.ASCII.GetBytes(storeName, expected);
        return stored.SequenceEqual(expected[..written]);
    }

    /// <summary>Reads the store name of a segment that passed the ownership checks, or null when it is not an anchor.</summary>
    internal static string? ReadStoreName(byte* address)
    {
        if (*(ulong*)(address + Layout.AnchorMagicOffset) != Layout.AnchorMagic
            || *(uint*)(address + Layout.AnchorVersionOffset) != Layout.LayoutVersion)
        {
            return null;
        }

        var length = *(uint*)(address + Layout.AnchorStoreNameLengthOffset);
        if (length is 0 or > Layout.StoreNameMaxLength)
        {
            return null;
        }

        return Encoding.ASCII.GetString(address + Layout.AnchorStoreNameOffset, (int)length);
    }

    /// <summary>Creates the anchor at <paramref name="key"/> with its first arena; null when another process created a
    /// segment at that key first (scan again).</summary>
    internal static Anchor? TryCreate(int key, uint uid, string storeName, long initialCapacity, long maxCapacity)
    {
        var shmId = Libc.ShmGet(key, Layout.AnchorSize, Libc.IPC_CREAT | Libc.IPC_EXCL | 0x180, out var errno);
        if (shmId < 0)
        {
            if (errno == Libc.EEXIST)
            {
                return null;
            }

            throw Libc.Failure("shmget", errno, $"Creating store '{storeName}'");
        }

        var address = Libc.ShmAt(shmId, out errno);
        if (address == null)
        {
            Libc.Remove(shmId);
            throw Libc.Failure("shmat", errno, $"Attaching the new store '{storeName}'");
        }

        // Claim the new segment at once (shmget zero-fills it): openers wait for a live claimant instead of creating a
        // second anchor at another probe, and remove the segment if the claimant dies (AwaitCreator).
        Volatile.Write(ref *(ulong*)(address + Layout.LockWordOffset), WriterLock.OwnWord);
        var anchor = new Anchor(address, shmId, key);
        try
        {
            *(uint*)(address + Layout.AnchorVersionOffset) = Layout.LayoutVersion;
            *(uint*)(address + Layout.AnchorSizeOffset) = Layout.AnchorSize;
            *(uint*)(address + Layout.AnchorOwnerUidOffset) = uid;
            *(uint*)(address + Layout.AnchorStoreNameLengthOffset) = (uint)storeName.Length;
            Encoding.ASCII.GetBytes(storeName, new Span<byte>(address + Layout.AnchorStoreNameOffset, Layout.StoreNameMaxLength));
            *(int*)(address + Layout.AnchorKeyOffset) = key;
            *(long*)(address + Layout.AnchorMaxCapacityOffset) = maxCapacity;
            *(long*)(address + Layout.AnchorCreatedOffset) = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            anchor.PendingShmId = -1;
            anchor.PreviousShmId = -1;

            var capacity = Math.Min(initialCapacity, maxCapacity);
            var slots = Arena.SlotCountFor(capacity, 0);
            var first = Arena.Create(anchor, uid, 1, capacity, slots, Layout.InitialSequence(DateTime.UtcNow), growing: false);
            anchor.ArenaRef = MakeArenaRef(first.Generation, first.ShmId);
            *(long*)(address + Layout.AnchorInitialCapacityOffset) = first.Capacity;
            first.Release();

            CrashPoints.Hit?.Invoke("create.before-magic");

            // The claim ends before the magic appears, so the word is free when the first writer comes (a waiter that
            // sees magic 0 and word 0 in between checks the creator pid, which is alive).
            Volatile.Write(ref *(ulong*)(address + Layout.LockWordOffset), 0UL);

            // Last: the magic makes the anchor visible to everyone scanning for it.
            Volatile.Write(ref *(ulong*)(address + Layout.AnchorMagicOffset), Layout.AnchorMagic);
            return anchor;
        }
        catch
        {
            Libc.Remove(shmId);
            anchor.Release();
            throw;
        }
    }
}
