using System;
using System.IO.Hashing;
using System.Text;
using System.Threading;

namespace Memalloc.Core;

/// <summary>Writes: the writer lock, recovery of a dead predecessor, and the write and removal protocols
/// (docs/store-design.md, "Writes").</summary>
public sealed unsafe partial class MemStore
{
    /// <summary>Writes unconditionally (raw encoding, no expiry); returns the new version.</summary>
    public long Set(string name, ReadOnlySpan<byte> value)
    {
        TrySet(name, value, default, out var version);
        return version;
    }

    /// <summary>Writes with options. Returns false (and writes nothing) when <see cref="WriteOptions.ExpectedVersion"/>
    /// does not match; otherwise true with the new version. The write commits whole or not at all.</summary>
    public bool TrySet(string name, ReadOnlySpan<byte> value, in WriteOptions options, out long version)
    {
        Span<byte> nameBytes = stackalloc byte[Layout.MaxNameBytes];
        nameBytes = nameBytes[..StackName.Encode(name, nameBytes)];
        var hash = XxHash3.HashToUInt64(nameBytes);
        if (options.Encoding is not (ValueEncoding.Raw or ValueEncoding.CliXml))
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"Unknown value encoding {(int)options.Encoding}.");
        }

        if (options.ExpectedVersion is < 0)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"An expected version cannot be negative ({options.ExpectedVersion}).");
        }

        Span<byte> typeBuffer = stackalloc byte[512]; // not zeroed: SkipLocalsInit
        scoped Span<byte> typeName = default;
        if (options.TypeName is { Length: > 0 } type)
        {
            var length = Encoding.UTF8.GetByteCount(type);
            if (length > Layout.MaxTypeNameBytes)
            {
                throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"A type name of {length} UTF-8 bytes is longer than the limit of {Layout.MaxTypeNameBytes}.");
            }

            typeName = length <= typeBuffer.Length ? typeBuffer[..length] : new byte[length];
            Encoding.UTF8.GetBytes(type, typeName);
        }

        return Commit(nameBytes, hash, typeName, value, options.Encoding, options.ExpectedVersion, Expiry.From(options), restored: null, out version, out _);
    }

    /// <summary>One write under the lock, for <see cref="TrySet"/> and <see cref="Restore"/>. A restored record keeps the
    /// snapshot's times, and is not written (false, <paramref name="expired"/>) when its expiry has passed by the time the
    /// lock is held.</summary>
    private bool Commit(ReadOnlySpan<byte> nameBytes, ulong hash, ReadOnlySpan<byte> typeName, ReadOnlySpan<byte> value, ValueEncoding encoding,
        long? expectedVersion, Expiry expiry, RestoredTimes? restored, out long version, out bool expired)
    {
        lock (_processLock)
        {
            var view = BeginWrite(out var now);
            try
            {
                expired = restored is not null && expiry.HasPassed(now);
                if (expired)
                {
                    version = 0;
                    EndWrite(view);
                    return false;
                }

                var written = WriteLocked(ref view, nameBytes, hash, typeName, value, (RecordKind)encoding, expectedVersion, now, expiry, restored, out version);
                EndWrite(view);
                return written;
            }
            catch (MemStoreException e) when (IsRefusal(e))
            {
                EndWrite(view); // thrown before anything was changed
                throw;
            }
            catch
            {
                AbortWrite(view);
                throw;
            }
        }
    }

    /// <summary>Failures a write reports before it changes anything: the store is left as it was, and idle.</summary>
    private static bool IsRefusal(MemStoreException e) => e.Kind is MemStoreErrorKind.CapacityExceeded or MemStoreErrorKind.InvalidArgument
        or MemStoreErrorKind.NameIsQueue or MemStoreErrorKind.NameIsStack;

    /// <summary>Removes a stack or a queue (with its items); false when it did not exist (or the version did not match, when one is given).</summary>
    public bool Remove(string name, long? expectedVersion = null)
    {
        Span<byte> nameBytes = stackalloc byte[Layout.MaxNameBytes];
        nameBytes = nameBytes[..StackName.Encode(name, nameBytes)];
        var hash = XxHash3.HashToUInt64(nameBytes);
        lock (_processLock)
        {
            var view = BeginWrite(out _);
            try
            {
                var removed = RemoveLocked(view, nameBytes, hash, expectedVersion);
                TryShrink(ref view);
                EndWrite(view);
                return removed;
            }
            catch
            {
                AbortWrite(view);
                throw;
            }
        }
    }

    /// <summary>Step 1 of every write: the lock word, recovery of a dead predecessor, writer state = Writing.
    /// Returns a referenced view of the current arena. Caller holds the process lock.
    /// On failure every reference taken here is dropped exactly once, and the lock word is released while a view
    /// reference still keeps the anchor mapped (the view is what a disposed instance's anchor lives on).
    /// <paramref name="verifying"/>: for Verify, which asks the kernel about removal at once, and recovers from a dead
    /// writer but leaves counters that no crash can produce as they are, for it to report.
    /// <paramref name="now"/> is the clock read once the lock is held: what a write decides from it (is the old record
    /// expired, when does the new one expire, its modified time) still holds when it commits, however long it waited.</summary>
    private ArenaView BeginWrite(out long now, bool verifying = false)
    {
        var view = Enter();
        try
        {
            WriterLock.Acquire(view.Anchor.Address);
        }
        catch
        {
            view.Exit();
            throw;
        }

        try
        {
            now = StoreClock.NowMs();
            CheckNotRemoved(view, force: verifying, now);
            var anchor = view.Anchor;
            var state = anchor.State;
            if (state == WriterState.Growing)
            {
                Compaction.RecoverGrowth(anchor, _uid);
            }

            // Another process may have grown the store since we entered: work on the arena the anchor names now.
            // The new view is entered before the old one is left: if entering throws (the store was destroyed or this
            // instance disposed while we waited), the catch below leaves the old view once, after releasing the lock.
            if (anchor.ArenaRef != view.ArenaRef)
            {
                var next = Enter();
                view.Exit();
                view = next;
            }

            if (state != WriterState.Idle || (!verifying && !Compaction.CountersPlausible(view)))
            {
                // A dead writer may have committed without waking its waiters: this write wakes every bucket with one.
                _wakeAllWaited |= state != WriterState.Idle;
                Compaction.Recount(view);
            }

            view.Anchor.State = WriterState.Writing;
            return view;
        }
        catch
        {
            WriterLock.Release(view.Anchor.Address);
            view.Exit();
            throw;
        }
    }

    private void EndWrite(ArenaView view)
    {
        view.Anchor.State = WriterState.Idle;
        WriterLock.Release(view.Anchor.Address);
        WakeWaiters(view.Anchor);
        view.Exit();
    }

    /// <summary>An unexpected failure mid-write: leave the writer state set so that the next writer recounts.</summary>
    private void AbortWrite(ArenaView view)
    {
        WriterLock.Release(view.Anchor.Address);
        WakeWaiters(view.Anchor); // something may have been published before the failure
        view.Exit();
    }

    /// <summary>After the writer lock's release (a compare-exchange: the full fence between the publishes and the loads
    /// of the waiter counts): wakes the buckets of the records this hold of the lock published, where someone waits
    /// (docs/coordination-design.md, "The protocol without lost wake-ups"). Nobody waiting: one load per bucket.</summary>
    private void WakeWaiters(Anchor anchor)
    {
        var mask = _wakeMask;
        var all = _wakeAllWaited;
        if (mask == 0 && !all)
        {
            return;
        }

        _wakeMask = 0;
        _wakeAllWaited = false;
        CrashPoints.Hit?.Invoke("wake.before");
        if (all)
        {
            WaitBuckets.WakeAllWaited(anchor.Address);
        }
        else
        {
            WaitBuckets.WakeTouched(anchor.Address, mask);
        }
    }

    /// <summary>Steps 2-6 of the write protocol (docs/store-design.md). The record is complete before the slot names it.
    /// <paramref name="kind"/>: a stack's encoding, or a coordination record's kind; a stack write onto a live queue
    /// head is refused (<see cref="MemStoreErrorKind.NameIsQueue"/>) before anything changes.</summary>
    private bool WriteLocked(ref ArenaView view, ReadOnlySpan<byte> name, ulong hash, ReadOnlySpan<byte> typeName, ReadOnlySpan<byte> value,
        RecordKind kind, long? expectedVersion, long now, Expiry expiry, RestoredTimes? restored, out long version)
    {
        var slot = Index.Find(view, name, hash, out var oldOffset, out var insertAt);
        var live = slot >= 0 && !Heap.IsExpired(view, oldOffset, now);
        if (live && kind <= RecordKind.CliXml && Heap.Kind(view, oldOffset) == RecordKind.QueueHead)
        {
            throw QueueRefused(name);
        }

        if (expectedVersion is { } expected
            && (expected == WriteOptions.MustNotExist ? live : !live || Heap.Version(view, oldOffset) != expected))
        {
            version = 0;
            return false; // a lost race comes first: a stack that expired meanwhile is missing, not an invalid expiry
        }

        var expires = expiry.At(now); // may throw InvalidArgument: nothing has been changed yet

        // The sequence comes from shared memory: the next version must not overflow, and never goes back. Checked
        // before anything changes (growth carries the sequence over unchanged).
        if (!Layout.IsValidSequence(view.Sequence) || (slot >= 0 && view.Sequence < Heap.Version(view, oldOffset)))
        {
            throw new MemStoreException(MemStoreErrorKind.Corrupt,
                $"The store is corrupt: its write sequence {view.Sequence} cannot give the next version (arena generation {view.Generation}). Nothing was written; run Verify, or remove the store.");
        }

        var created = restored?.Created ?? (live ? Heap.Created(view, oldOffset) : now);
        var size = Layout.RecordSize(name.Length, typeName.Length, value.Length);
        var needsFreshSlot = slot < 0 && (insertAt < 0 || view.Slots[insertAt] == Layout.EmptySlot);
        var indexFull = slot < 0 && (insertAt < 0
            || (needsFreshSlot && (view.Entries + view.Tombstones + 1) * 100 > view.SlotCount * Layout.MaxLoadPercent));
        if (view.Bump + size > view.Capacity || indexFull)
        {
            Compact(ref view, size, value.Length);
            slot = Index.Find(view, name, hash, out oldOffset, out insertAt);
        }

        var offset = view.Bump;
        if (!Compaction.BumpInHeap(view, offset))
        {
            // The bump pointer comes from shared memory: never write where a damaged one points.
            Compaction.Recount(view);
            offset = view.Bump;
            if (!Compaction.BumpInHeap(view, offset) || offset + size > view.Capacity)
            {
                throw Heap.Corrupt(view, offset, "the heap's bump pointer is outside the heap");
            }
        }

        version = view.Sequence + 1;
        view.Sequence = version;
        CrashPoints.Hit?.Invoke("write.after-sequence");
        Heap.Write(view, offset, name, hash, typeName, value, kind, version, created, restored?.Modified ?? now, expires);
        CrashPoints.Hit?.Invoke("write.after-record");
        Volatile.Write(ref view.Bump, offset + size);
        CrashPoints.Hit?.Invoke("write.after-bump");
        var target = slot >= 0 ? slot : insertAt;
        var reusesTombstone = slot < 0 && view.Slots[target] == Layout.TombstoneSlot;
        Volatile.Write(ref view.Slots[target], Index.SlotWord(hash, offset)); // commit point
        _wakeMask |= WaitBuckets.MaskOf(hash);
        CrashPoints.Hit?.Invoke("write.after-publish");
        if (slot >= 0)
        {
            var oldSize = Heap.Size(view, oldOffset);
            view.LiveBytes -= oldSize;
            view.GarbageBytes += oldSize;
        }
        else
        {
            view.Entries++;
            if (reusesTombstone)
            {
                view.Tombstones--;
            }
        }

        view.LiveBytes += size;
        CrashPoints.Hit?.Invoke("write.after-counters");
        if (slot >= 0)
        {
            TryShrink(ref view, size); // an overwrite by a smaller value may leave a large arena mostly empty
        }

        return true;
    }

    /// <summary>Builds the next arena (growing, compacting or shrinking it: <see cref="Compaction.Grow"/>) and makes
    /// <paramref name="view"/> an operation reference on it. Caller holds the writer lock.</summary>
    private void Compact(ref ArenaView view, long recordSize, long valueLength)
    {
        var grown = Compaction.Grow(view.Anchor, _uid, view, recordSize, valueLength, _attachments);
        view.Exit();
        AdoptGrown(grown);
        // Trade the creation reference Grow handed us for an operation reference, like every other operation holds.
        grown.TryEnter();
        grown.Release();
        view = grown;
    }

    /// <summary>After a committed removal or overwrite: compacts into a smaller arena when the live data would use under
    /// about a quarter of this one, so that the memory goes back to the system (docs/store-design.md, "Shrinking").
    /// <paramref name="headroom"/>: the size of the record an overwrite just wrote, which the smaller arena must have room
    /// to take again beside the live data, or the next overwrite grows it straight back (issue 15).
    /// Opportunistic: a failure (the kernel refusing a segment) leaves the store as it is, and the write stands.</summary>
    private void TryShrink(ref ArenaView view, long headroom = 0)
    {
        if (!Compaction.ShouldShrink(view.Anchor, view, headroom))
        {
            return;
        }

        try
        {
            Compact(ref view, headroom, 0);
        }
        catch (MemStoreException)
        {
            // Nothing was published (the reference flips last): clean up whatever the attempt left, as recovery would,
            // and carry on. A committed write or removal is never reported as failed because a shrink could not be made.
            Compaction.RecoverGrowth(view.Anchor, _uid);
            view.Anchor.State = WriterState.Writing;
        }
        catch (ObjectDisposedException)
        {
            // This instance was disposed during the call: Grow refused before changing anything. The shrink waits for
            // the next writer; the committed write stands.
        }
    }

    private bool RemoveLocked(ArenaView view, ReadOnlySpan<byte> name, ulong hash, long? expectedVersion)
    {
        var slot = Index.Find(view, name, hash, out var offset, out _);
        if (slot < 0)
        {
            return false;
        }

        // An expired stack counts as missing, but its slot is reclaimed now that we are here anyway.
        var live = !Heap.IsExpired(view, offset);
        if (live && expectedVersion is { } expected && Heap.Version(view, offset) != expected)
        {
            return false;
        }

        var size = Heap.Size(view, offset);
        Volatile.Write(ref view.Slots[slot], Layout.TombstoneSlot);
        _wakeMask |= WaitBuckets.MaskOf(hash);
        CrashPoints.Hit?.Invoke("remove.after-tombstone");
        view.Entries--;
        view.Tombstones++;
        view.LiveBytes -= size;
        view.GarbageBytes += size;
        CrashPoints.Hit?.Invoke("remove.after-counters");
        return live;
    }
}
