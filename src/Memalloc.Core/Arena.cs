using System;
using System.Numerics;
using System.Threading;

namespace Memalloc.Core;

/// <summary>Arenas: their geometry, mapping the one an anchor names, creating a new one, recycling the spare (through the
/// store's backing, <see cref="ArenaSegments"/>).</summary>
internal static unsafe class Arena
{
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
    /// Maps the arena an anchor reference names, after checking that it is ours and its header is the one the anchor
    /// expects. Null when it no longer exists or is marked for removal (the caller re-reads the reference); Corrupt when
    /// the header does not match, which can also be a race with a writer that recycled the arena meanwhile: callers re-read
    /// the reference before they believe it. Throws ObjectDisposedException when the anchor's owner has let go of it.
    /// </summary>
    internal static ArenaView? Attach(Anchor anchor, uint uid, ulong arenaRef, ArenaAttachments attachments)
    {
        var id = Anchor.IdOf(arenaRef);
        var generation = Anchor.GenerationOf(arenaRef);
        var arenas = anchor.Arenas;
        anchor.Borrow(); // the view's, handed over below; given back on every other way out
        try
        {
            // An arena this process still has mapped (a recycled arena coming back): the same one it checked when it
            // mapped it. Only the header needs checking.
            string? foreign = null;
            var mapping = attachments.TryBorrowAttached(id) ?? arenas.Map(uid, id, attachments, out foreign);
            if (foreign is not null)
            {
                throw new MemStoreException(MemStoreErrorKind.ForeignSegment,
                    $"The arena named by the store's anchor is not this store's: {foreign}. It was not read.");
            }

            if (mapping is null)
            {
                anchor.Return();
                return null;
            }

            var problem = ArenaHeader.Problem(mapping.Address, anchor.Key, generation, mapping.Size, out var capacity, out var slotCount);
            if (problem is not null)
            {
                mapping.Return();
                throw new MemStoreException(MemStoreErrorKind.Corrupt, $"The store's arena ({arenas.Describe(id)}, generation {generation}) is not valid: {problem}. Run Verify or remove the store.");
            }

            return new ArenaView(anchor, mapping, generation, capacity, slotCount);
        }
        catch
        {
            anchor.Return();
            throw;
        }
    }

    /// <summary>
    /// Creates and initialises an empty arena for generation <paramref name="firstGeneration"/>, trying later generations
    /// when its key or name is taken by something that is not ours, and removing a leftover of a crashed growth (ours, not
    /// current). With <paramref name="growing"/>, records the pending build in the anchor for recovery. Returns the mapped
    /// view (one reference), which takes over a borrow of the anchor the caller made.
    /// </summary>
    internal static ArenaView Create(Anchor anchor, uint uid, uint firstGeneration, long capacity, long slotCount, long sequence, bool growing,
        ArenaAttachments attachments)
    {
        capacity = RoundToPages(capacity);
        var arenas = anchor.Arenas;
        for (var attempt = 0; attempt < KeyDerivation.ArenaProbes; attempt++)
        {
            var generation = firstGeneration + (uint)attempt;
            var mapping = arenas.Create(anchor, generation, capacity, growing, attachments);
            if (mapping is null)
            {
                // An initialised arena of ours at this generation is a leftover; anything else there is not ours to remove
                // (recovery already removed what a crashed growth recorded): skip the generation.
                if (arenas.RemoveLeftover(anchor, uid, generation, expectedKey: 0, expectedSize: 0))
                {
                    attempt--; // same generation again, its key or name is free now
                }

                continue;
            }

            // A fresh segment or object is zero-filled by the kernel: only the header needs writing; the index is all empty
            // slots. The magic goes last, so that a header with the magic is complete (IsOurs trusts its anchor key).
            var address = mapping.Address;
            *(uint*)(address + Layout.ArenaVersionOffset) = anchor.Version; // arenas follow their anchor's layout
            *(uint*)(address + Layout.ArenaGenerationOffset) = generation;
            *(int*)(address + Layout.ArenaAnchorKeyOffset) = anchor.Key;
            *(long*)(address + Layout.ArenaCapacityOffset) = capacity;
            *(long*)(address + Layout.ArenaSlotCountOffset) = slotCount;
            *(long*)(address + Layout.ArenaHeapOffsetOffset) = Layout.HeapOffsetFor(slotCount);
            *(long*)(address + Layout.ArenaSequenceOffset) = sequence;
            *(long*)(address + Layout.ArenaBumpOffset) = Layout.HeapOffsetFor(slotCount);
            *(ulong*)(address + Layout.ArenaNamespaceOffset) = arenas.NamespaceStamp;
            *(ulong*)(address + Layout.ArenaMagicOffset) = Layout.ArenaMagic;
            return new ArenaView(anchor, mapping, generation, capacity, slotCount);
        }

        throw new MemStoreException(MemStoreErrorKind.ForeignSegment,
            $"Could not create an arena for the store: {KeyDerivation.ArenaProbes} successive keys or names are taken by segments that are not this store's.");
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
        var id = Anchor.IdOf(spareRef);
        if (id == Anchor.IdOf(anchor.ArenaRef))
        {
            return null;
        }

        // Asked every time, even of an arena this process still has mapped: an operator may have removed the spare
        // (ipcrm, shm_unlink), and a removed one published as the current arena would take the store's data with it at
        // the last unmap. A few system calls per compaction, never on the write path.
        var mapping = anchor.Arenas.MapSpare(uid, id, capacity, attachments);
        if (mapping is null)
        {
            return null; // gone, not ours, too small, or removed: do not reuse (Grow drops it)
        }

        var address = mapping.Address;
        if (*(ulong*)(address + Layout.ArenaMagicOffset) != Layout.ArenaMagic || *(int*)(address + Layout.ArenaAnchorKeyOffset) != anchor.Key
            || *(long*)(address + Layout.ArenaCapacityOffset) != capacity || *(long*)(address + Layout.ArenaSlotCountOffset) != slotCount)
        {
            mapping.Return();
            return null;
        }

        anchor.PendingGeneration = generation;
        anchor.PendingKey = 0;
        anchor.PendingCapacity = 0;
        anchor.PendingShmId = id;
        anchor.SpareRef = 0;
        Volatile.Write(ref *(uint*)(address + Layout.ArenaGenerationOffset), generation);
        Interlocked.MemoryBarrier();
        CrashPoints.Hit?.Invoke("grow.after-recycle-mark");
        new Span<byte>(address + Layout.IndexOffset, checked((int)(slotCount * Layout.SlotSize))).Clear();
        *(long*)(address + Layout.ArenaSequenceOffset) = sequence;
        *(long*)(address + Layout.ArenaBumpOffset) = Layout.HeapOffsetFor(slotCount);
        return new ArenaView(anchor, mapping, generation, capacity, slotCount);
    }
}
