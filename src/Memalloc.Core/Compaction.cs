using System;
using System.IO.Hashing;
using System.Threading;

namespace Memalloc.Core;

/// <summary>
/// Growth and compaction (one operation: copy every live, unexpired record into a new arena and flip the anchor's
/// reference), and the recovery a writer runs when it finds the writer state of a dead predecessor.
/// All of it runs under the writer lock.
/// </summary>
internal static unsafe class Compaction
{
    /// <summary>
    /// Builds the successor of <paramref name="old"/> with room for a record of <paramref name="recordSize"/> bytes
    /// and one more entry, publishes it, and removes the old arena. Returns the new view (one reference, which the
    /// caller owns); the old view is untouched and still mapped. Throws CapacityExceeded (nothing changed) when even
    /// the maximum capacity cannot hold the live data plus the new record, and ObjectDisposedException (nothing changed)
    /// when the store instance was disposed meanwhile.
    /// </summary>
    internal static ArenaView Grow(Anchor anchor, uint uid, ArenaView old, long recordSize, long valueLength, ArenaAttachments attachments)
    {
        var now = StoreClock.NowMs();
        var garbage = new CoordinationGarbage(old, now);
        long liveBytes = 0;
        long liveEntries = 0;
        for (long i = 0; i < old.SlotCount; i++)
        {
            var offset = LiveRecord(old, i, now, garbage, out var size);
            if (offset >= 0)
            {
                liveBytes += size;
                liveEntries++;
            }
        }

        var need = liveBytes + recordSize;
        var maximum = Math.Max(anchor.CheckedMaxCapacity(), old.Capacity);
        var capacity = ShrunkCapacity(anchor, old.Capacity, need, liveEntries + 1);
        long slots;
        while (true)
        {
            slots = Arena.SlotCountFor(capacity, liveEntries + 1);
            var heap = capacity - Layout.HeapOffsetFor(slots);
            // Aim for live data using at most half the heap, so that compaction is not needed again soon.
            if (heap >= 2 * need)
            {
                break;
            }

            if (capacity >= maximum)
            {
                if (heap >= need)
                {
                    break;
                }

                var free = Math.Max(0, heap - liveBytes);
                throw new MemStoreException(MemStoreErrorKind.CapacityExceeded,
                    $"A value of {valueLength} bytes ({recordSize} bytes with its record header and name) does not fit in the store: {free} bytes are free at its maximum capacity of {maximum} bytes " +
                    $"({liveEntries} stacks use {liveBytes} bytes). Remove stacks, or recreate the store with a larger MaxCapacity (MEMALLOC_MAX_CAPACITY). {anchor.Arenas.LimitHint}");
            }

            capacity = Math.Min(capacity * 2, maximum);
        }

        anchor.Borrow(); // for the successor's view, before anything changes
        ArenaView? successor = null;
        try
        {
            anchor.PreviousShmId = old.Id;
            anchor.State = WriterState.Growing;
            successor = Build(anchor, uid, old, capacity, slots, attachments);
        }
        finally
        {
            if (successor is null)
            {
                anchor.Return();
            }
        }

        try
        {
            var bump = successor.HeapOffset;
            long entries = 0;
            for (long i = 0; i < old.SlotCount; i++)
            {
                var offset = LiveRecord(old, i, now, garbage, out var size);
                if (offset < 0)
                {
                    continue;
                }

                // Records are position-independent (the checksum does not cover the offset): a plain copy.
                var record = old.Address + offset;
                Buffer.MemoryCopy(record, successor.Address + bump, size, size);
                // Rehash the name rather than trusting the stored hash: the index must find what it holds.
                var hash = XxHash3.HashToUInt64(new ReadOnlySpan<byte>(record + Layout.RecordNameOffset, record[Layout.RecordNameLengthOffset]));
                Index.InsertFresh(successor, hash, bump);
                bump += size;
                entries++;
            }

            successor.Bump = bump;
            successor.Entries = entries;
            successor.LiveBytes = bump - successor.HeapOffset;
            successor.Tombstones = 0;
            successor.GarbageBytes = 0;
            CrashPoints.Hit?.Invoke("grow.after-copy");
        }
        catch
        {
            anchor.Arenas.Remove(successor.Id);
            attachments.Drop(successor.Attachment);
            successor.Release();
            anchor.PendingShmId = -1;
            anchor.PendingCapacity = 0;
            anchor.State = WriterState.Writing;
            throw;
        }

        // Commit point: everyone follows the anchor's reference from here on.
        anchor.ArenaRef = successor.ArenaRef;
        CrashPoints.Hit?.Invoke("grow.after-publish");
        if (old.Capacity == successor.Capacity && anchor.Arenas.KeepsSpare(old.Capacity))
        {
            // Compaction in place: keep the retired arena, already faulted in, as the target of the next one.
            anchor.SpareRef = old.ArenaRef;
        }
        else
        {
            anchor.Arenas.Remove(old.Id);
        }

        CrashPoints.Hit?.Invoke("grow.after-rmid-old");
        anchor.PendingShmId = -1;
        anchor.PendingCapacity = 0;
        anchor.PreviousShmId = -1;
        anchor.State = WriterState.Writing;
        return successor;
    }

    /// <summary>The successor's arena: the spare recycled when it has the size, else a new segment (a spare of another
    /// size is removed first). Takes over the caller's borrow of the anchor when it returns.</summary>
    private static ArenaView Build(Anchor anchor, uint uid, ArenaView old, long capacity, long slots, ArenaAttachments attachments)
    {
        var spare = anchor.SpareRef;
        if (spare != 0 && Arena.TryRecycle(anchor, uid, spare, old.Generation + 1, capacity, slots, old.Sequence, attachments) is { } recycled)
        {
            return recycled;
        }

        if (spare != 0)
        {
            // A spare of the wrong size (the store grew): it will not be reused. Removed before it is forgotten:
            // a writer killed in between leaves a reference to a removed segment (harmless: every user of
            // SpareRef checks the segment first), never a segment nothing refers to.
            if (Anchor.IdOf(spare) != old.Id && anchor.Arenas.IsOurs(anchor, uid, Anchor.IdOf(spare)))
            {
                anchor.Arenas.Remove(Anchor.IdOf(spare));
            }

            CrashPoints.Hit?.Invoke("grow.stale-spare-drop");
            anchor.SpareRef = 0;
        }

        return Arena.Create(anchor, uid, old.Generation + 1, capacity, slots, old.Sequence, growing: true, attachments);
    }

    /// <summary>Capacity of a store created before its initial capacity was recorded in the anchor: the default.</summary>
    private static readonly long s_defaultInitialCapacity = new MemStoreOptions().InitialCapacity;

    /// <summary>
    /// The smallest halving of <paramref name="capacity"/>, never below the store's initial capacity, at which
    /// <paramref name="need"/> bytes of records (and <paramref name="entries"/> index entries) still use at most a quarter
    /// of the heap. Growth aims at half; the factor of two between the rules is what keeps a store at the boundary from
    /// growing and shrinking at alternate compactions (issue 15). So an arena shrinks once its live data uses under about
    /// an eighth of it, and a store that shrank has to double its live data before it grows again (docs/store-design.md,
    /// "Shrinking").
    /// </summary>
    internal static long ShrunkCapacity(Anchor anchor, long capacity, long need, long entries)
    {
        // The anchor's word is shared memory: whatever it says, never below the smallest arena or above this one.
        var floor = Math.Min(capacity, Math.Max(Layout.MinArenaCapacity, anchor.InitialCapacity > 0 ? anchor.InitialCapacity : s_defaultInitialCapacity));
        while (capacity / 2 >= floor && HeapBytes(capacity / 2, entries) >= 4 * need)
        {
            capacity /= 2;
        }

        return capacity;
    }

    /// <summary>True when the arena's live data (by its counters, an upper bound: expired records count) plus
    /// <paramref name="headroom"/> would fit a smaller arena by <see cref="ShrunkCapacity"/>. Arithmetic only: the write
    /// path asks after every overwrite.</summary>
    internal static bool ShouldShrink(Anchor anchor, ArenaView view, long headroom) =>
        view.Capacity / 2 >= anchor.InitialCapacity
        && ShrunkCapacity(anchor, view.Capacity, Volatile.Read(ref view.LiveBytes) + headroom, Volatile.Read(ref view.Entries) + 1) < view.Capacity;

    private static long HeapBytes(long capacity, long entries) => capacity - Layout.HeapOffsetFor(Arena.SlotCountFor(capacity, entries));

    /// <summary>Offset of the valid, unexpired record in slot <paramref name="slot"/> that is not coordination garbage, or -1.</summary>
    private static long LiveRecord(ArenaView view, long slot, long nowMs, CoordinationGarbage garbage, out long size)
    {
        size = 0;
        var word = view.Slots[slot];
        if (!Index.HoldsRecord(word))
        {
            return -1;
        }

        var offset = Index.OffsetOf(word);
        size = Heap.CheckRecord(view, offset);
        if (size < 0 || Heap.IsExpired(view, offset, nowMs) || garbage.IsGarbage(view, offset))
        {
            return -1;
        }

        return offset;
    }

    /// <summary>
    /// Cleans up after a writer that died during a growth: if the anchor already names the new arena, the old one is
    /// removed; otherwise the half-built one is. Either way the current arena is complete. Caller holds the lock.
    /// </summary>
    internal static void RecoverGrowth(Anchor anchor, uint uid)
    {
        var arenas = anchor.Arenas;
        var current = Anchor.IdOf(anchor.ArenaRef);
        var spare = anchor.SpareRef == 0 ? -1 : Anchor.IdOf(anchor.SpareRef);
        if (spare == current)
        {
            anchor.SpareRef = 0; // the spare was being recycled into the current arena
            spare = -1;
        }

        if (Anchor.GenerationOf(anchor.ArenaRef) == anchor.PendingGeneration)
        {
            // Committed: the replaced arena goes, unless it was already kept as the spare.
            var previous = anchor.PreviousShmId;
            if (previous >= 0 && previous != current && previous != spare && arenas.IsOurs(anchor, uid, previous))
            {
                arenas.Remove(previous);
            }
        }
        else
        {
            // Not committed: the half-built (new or recycled) arena goes; the current one was never touched. A recycled
            // spare (no pending key, no pending capacity) is initialised; a new arena may not be yet, and is then ours only
            // where and as large as the growth recorded it. A System V growth killed between shmget and recording the
            // shmid left only its key: the segment there is looked up.
            var pending = anchor.PendingShmId;
            if (pending >= 0 && pending != current && arenas.IsOurs(anchor, uid, pending, anchor.PendingKey, anchor.PendingCapacity))
            {
                arenas.Remove(pending);
                if (pending == spare)
                {
                    anchor.SpareRef = 0;
                }
            }
            else if (anchor.PendingKey != 0)
            {
                arenas.RemoveLeftover(anchor, uid, anchor.PendingGeneration, anchor.PendingKey, anchor.PendingCapacity);
            }
        }

        anchor.PendingShmId = -1;
        anchor.PendingCapacity = 0;
        anchor.PreviousShmId = -1;
    }

    /// <summary>Whether the counters and the bump pointer are within what the arena's geometry allows. They are derived
    /// data that only writers maintain; a writer that finds them impossible recounts instead of computing with them.</summary>
    internal static bool CountersPlausible(ArenaView view) =>
        (ulong)view.Entries <= (ulong)view.SlotCount && (ulong)view.Tombstones <= (ulong)view.SlotCount
        && (ulong)view.LiveBytes <= (ulong)view.Capacity && (ulong)view.GarbageBytes <= (ulong)view.Capacity
        && BumpInHeap(view, view.Bump);

    /// <summary>True when a bump pointer read from shared memory lies inside the heap and is 8-aligned.</summary>
    internal static bool BumpInHeap(ArenaView view, long bump) => bump >= view.HeapOffset && bump <= view.Capacity && (bump & 7) == 0;

    /// <summary>Sets the arena's counters from a walk of the index (recovery after a writer died mid-write).</summary>
    internal static void Recount(ArenaView view)
    {
        long entries = 0;
        long tombstones = 0;
        long live = 0;
        var end = view.HeapOffset;
        for (long i = 0; i < view.SlotCount; i++)
        {
            var word = view.Slots[i];
            if (word == Layout.TombstoneSlot)
            {
                tombstones++;
            }
            else if (Index.HoldsRecord(word))
            {
                var offset = Index.OffsetOf(word);
                var size = Heap.CheckRecord(view, offset);
                entries++;
                if (size > 0)
                {
                    live += size;
                    end = Math.Max(end, offset + size);
                }
            }
        }

        // A bump pointer behind a published record (or outside the heap) would let the next write overwrite it.
        var bump = view.Bump;
        if (bump < end || !BumpInHeap(view, bump))
        {
            view.Bump = end;
            bump = end;
        }

        view.Entries = entries;
        view.Tombstones = tombstones;
        view.LiveBytes = live;
        view.GarbageBytes = bump - view.HeapOffset - live;
    }
}
