using System;
using System.Numerics;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>Arena segments: their geometry, attaching the one an anchor names, creating a new one, recycling the spare.</summary>
internal static unsafe class Arena
{
    /// <summary>Whether a retired arena of this size is kept as the spare (see <see cref="Layout.MaxSpareCapacity"/>).
    /// Never on macOS: its default SysV limits (8 segments per process, 4 MiB in all) cannot afford a second arena.</summary>
    internal static bool KeepsSpare(long capacity) => capacity <= Layout.MaxSpareCapacity && !OperatingSystem.IsMacOS();

    /// <summary>Rounds up to whole pages of <see cref="Environment.SystemPageSize"/>, the kernel's page size (what
    /// shmget rounds segments to).</summary>
    internal static long RoundToPages(long size)
    {
        long page = Environment.SystemPageSize;
        return (size + page - 1) / page * page;
    }

    /// <summary>Index size for an arena: one slot per <see cref="Layout.BytesPerSlot"/> bytes, and at least twice the
    /// entries it will hold (load at most 50% after a rebuild), a power of two.</summary>
    internal static long SlotCountFor(long capacity, long entries)
    {
        var byCapacity = (long)BitOperations.RoundUpToPowerOf2((ulong)Math.Max(1, capacity / Layout.BytesPerSlot));
        var byEntries = (long)BitOperations.RoundUpToPowerOf2((ulong)((entries + 1) * 2));
        var slots = Math.Max(Layout.MinSlotCount, Math.Max(byCapacity, byEntries));
        // Never let the index take more than half of a small arena.
        while (slots > Layout.MinSlotCount && slots > byEntries && Layout.HeapOffsetFor(slots) > capacity / 2)
        {
            slots /= 2;
        }

        return slots;
    }

    /// <summary>
    /// Attaches the arena an anchor reference names, after checking that the segment is ours and its header is the one
    /// the anchor expects. Null when the segment no longer exists or is marked for removal (the caller re-reads the
    /// reference); Corrupt when the header does not match, which can also be a race with a writer that recycled the
    /// arena meanwhile: callers re-read the reference before they believe it. Throws ObjectDisposedException when the
    /// anchor's owner has let go of it.
    /// </summary>
    internal static ArenaView? Attach(Anchor anchor, uint uid, ulong arenaRef, ArenaAttachments attachments)
    {
        var shmId = Anchor.ShmIdOf(arenaRef);
        var generation = Anchor.GenerationOf(arenaRef);
        anchor.Borrow(); // the view's, handed over below; given back on every other way out
        try
        {
            // A segment this process still has attached (a recycled arena coming back): the same segment it checked
            // when it attached it. Only the header needs checking.
            var attachment = attachments.TryBorrowAttached(shmId);
            if (attachment is null)
            {
                if (!Libc.TryStat(shmId, out var status, out var errno))
                {
                    if (Libc.IsGone(errno))
                    {
                        anchor.Return();
                        return null;
                    }

                    throw Libc.Failure("shmctl", errno, "Checking the store's arena");
                }

                if (status.IsMarkedForRemoval)
                {
                    // IPC_RMID from outside (ipcrm): still attachable by id while someone has it mapped, but every write
                    // to it would vanish with the last detach. Treat it as gone.
                    anchor.Return();
                    return null;
                }

                if (!status.IsOwnedBy(uid, Layout.ArenaHeaderSize))
                {
                    throw new MemStoreException(MemStoreErrorKind.ForeignSegment,
                        $"The arena segment {shmId} named by the store's anchor is not owned by this user with mode 0600 (owner {status.Uid}, creator {status.Cuid}, mode {Convert.ToString(status.PermissionBits, 8)}); it was not read.");
                }

                attachment = attachments.Attach(shmId, status.Size, out errno);
                if (attachment is null)
                {
                    if (Libc.IsGone(errno))
                    {
                        anchor.Return();
                        return null;
                    }

                    throw Libc.Failure("shmat", errno, "Attaching the store's arena");
                }
            }

            var problem = ArenaHeader.Problem(attachment.Address, anchor.Key, generation, attachment.Size, out var capacity, out var slotCount);
            if (problem is not null)
            {
                attachment.Return();
                throw new MemStoreException(MemStoreErrorKind.Corrupt, $"The store's arena (segment {shmId}, generation {generation}) is not valid: {problem}. Run Verify or remove the store.");
            }

            return new ArenaView(anchor, attachment, generation, capacity, slotCount);
        }
        catch
        {
            anchor.Return();
            throw;
        }
    }

    /// <summary>
    /// Creates and initialises an empty arena at key(anchor, generation), trying later generations when a key is
    /// taken by a segment that is not ours, and removing an orphan of a crashed growth (ours, not current).
    /// With <paramref name="growing"/>, records the pending generation, key and shmid in the anchor for recovery.
    /// Returns the attached view (one reference), which takes over a borrow of the anchor the caller made.
    /// </summary>
    internal static ArenaView Create(Anchor anchor, uint uid, uint firstGeneration, long capacity, long slotCount, long sequence, bool growing,
        ArenaAttachments attachments)
    {
        capacity = RoundToPages(capacity);
        for (var attempt = 0; attempt < KeyDerivation.ArenaProbes; attempt++)
        {
            var generation = firstGeneration + (uint)attempt;
            var key = KeyDerivation.ArenaKey(anchor.Key, generation);
            if (growing)
            {
                anchor.PendingShmId = -1;
                anchor.PendingCapacity = capacity;
                anchor.PendingKey = key;
                anchor.PendingGeneration = generation;
            }

            var shmId = Libc.ShmCreate(key, capacity, out var errno);
            if (shmId < 0)
            {
                if (errno == Libc.EEXIST)
                {
                    // An initialised arena of ours at this generation is a leftover; anything else at the key is not
                    // ours to remove (recovery already removed what a crashed growth recorded): skip the generation.
                    if (RemoveOrphan(anchor, uid, key, generation, expectedSize: 0))
                    {
                        attempt--; // same generation again, its key is free now
                    }

                    continue;
                }

                throw Libc.CreationFailure(errno, capacity, "Creating an arena");
            }

            if (growing)
            {
                anchor.PendingShmId = shmId;
                CrashPoints.Hit?.Invoke("grow.after-shmget");
            }

            var attachment = attachments.Attach(shmId, capacity, out errno);
            if (attachment is null)
            {
                Libc.Remove(shmId);
                throw Libc.Failure("shmat", errno, "Attaching a new arena");
            }

            // A fresh segment is zero-filled by the kernel: only the header needs writing; the index is all empty slots.
            // The magic goes last, so that a header with the magic is complete (IsOurs trusts its anchor key).
            var address = attachment.Address;
            *(uint*)(address + Layout.ArenaVersionOffset) = anchor.Version; // arenas follow their anchor's layout
            *(uint*)(address + Layout.ArenaGenerationOffset) = generation;
            *(int*)(address + Layout.ArenaAnchorKeyOffset) = anchor.Key;
            *(long*)(address + Layout.ArenaCapacityOffset) = capacity;
            *(long*)(address + Layout.ArenaSlotCountOffset) = slotCount;
            *(long*)(address + Layout.ArenaHeapOffsetOffset) = Layout.HeapOffsetFor(slotCount);
            *(long*)(address + Layout.ArenaSequenceOffset) = sequence;
            *(long*)(address + Layout.ArenaBumpOffset) = Layout.HeapOffsetFor(slotCount);
            *(ulong*)(address + Layout.ArenaMagicOffset) = Layout.ArenaMagic;
            return new ArenaView(anchor, attachment, generation, capacity, slotCount);
        }

        throw new MemStoreException(MemStoreErrorKind.ForeignSegment,
            $"Could not create an arena for the store: {KeyDerivation.ArenaProbes} successive keys are taken by segments that are not this store's.");
    }

    /// <summary>
    /// Reuses the spare arena as generation <paramref name="generation"/> when it has exactly the wanted geometry: the
    /// new generation is stored first (with a full fence: readers still in it will notice and retry), then the index
    /// is cleared and the header reset. Null (spare untouched) when it does not fit or is not ours. The view takes over a
    /// borrow of the anchor the caller made; on null the caller keeps it.
    /// </summary>
    internal static ArenaView? TryRecycle(Anchor anchor, uint uid, ulong spareRef, uint generation, long capacity, long slotCount, long sequence,
        ArenaAttachments attachments)
    {
        var shmId = Anchor.ShmIdOf(spareRef);
        if (shmId == Anchor.ShmIdOf(anchor.ArenaRef))
        {
            return null;
        }

        // Asked every time, even of a segment this process still has attached: an operator may have removed the spare
        // (ipcrm), and a removed segment published as the current arena would take the store's data with it at the
        // last detach. One system call per compaction, never on the write path.
        if (!Libc.TryStat(shmId, out var status, out _) || !status.IsOwnedBy(uid, capacity) || status.IsMarkedForRemoval)
        {
            return null; // gone, not ours, too small, or marked for removal: do not reuse (Grow drops it)
        }

        // Still attached here: no shmat, and its pages are still mapped (no page faults).
        var attachment = attachments.TryBorrowAttached(shmId, capacity) ?? attachments.Attach(shmId, status.Size, out _);
        if (attachment is null)
        {
            return null;
        }

        var address = attachment.Address;
        if (*(ulong*)(address + Layout.ArenaMagicOffset) != Layout.ArenaMagic || *(int*)(address + Layout.ArenaAnchorKeyOffset) != anchor.Key
            || *(long*)(address + Layout.ArenaCapacityOffset) != capacity || *(long*)(address + Layout.ArenaSlotCountOffset) != slotCount)
        {
            attachment.Return();
            return null;
        }

        anchor.PendingGeneration = generation;
        anchor.PendingKey = 0;
        anchor.PendingCapacity = 0;
        anchor.PendingShmId = shmId;
        anchor.SpareRef = 0;
        Volatile.Write(ref *(uint*)(address + Layout.ArenaGenerationOffset), generation);
        Interlocked.MemoryBarrier();
        CrashPoints.Hit?.Invoke("grow.after-recycle-mark");
        new Span<byte>(address + Layout.IndexOffset, checked((int)(slotCount * Layout.SlotSize))).Clear();
        *(long*)(address + Layout.ArenaSequenceOffset) = sequence;
        *(long*)(address + Layout.ArenaBumpOffset) = Layout.HeapOffsetFor(slotCount);
        return new ArenaView(anchor, attachment, generation, capacity, slotCount);
    }

    /// <summary>Removes the segment at an arena key when it is ours (<see cref="ArenaHeader.IsOurs"/>: an initialised
    /// arena of this generation, or an uninitialised one of <paramref name="expectedSize"/>) and not the current arena.
    /// True when removed; false when it is foreign (then the generation is skipped).</summary>
    internal static bool RemoveOrphan(Anchor anchor, uint uid, int key, uint generation, long expectedSize)
    {
        var shmId = Libc.ShmLookup(key, out _);
        if (shmId < 0 || shmId == Anchor.ShmIdOf(anchor.ArenaRef) || !ArenaHeader.IsOurs(anchor, uid, shmId, key, expectedSize, generation))
        {
            return false;
        }

        return Libc.Remove(shmId) == 0;
    }
}
