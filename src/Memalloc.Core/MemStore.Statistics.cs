using System;
using System.Globalization;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>What a store holds and whether it is sound: statistics and Verify.</summary>
public sealed unsafe partial class MemStore
{
    /// <summary>Size, segments and ownership of the store, asked of the kernel (so a removal from outside is noticed here).</summary>
    public StoreStatistics GetStatistics()
    {
        var view = Enter();
        try
        {
            CheckNotRemoved(view, force: true, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            var (live, expired) = CountEntries(ref view);
            var anchor = view.Anchor;
            Libc.TryStat(anchor.ShmId, out var status, out _);
            var used = view.HeapOffset + Volatile.Read(ref view.LiveBytes);
            var (segments, objects) = ArenaListing(anchor, view);
            return new StoreStatistics
            {
                Name = Name,
                Key = anchor.Key,
                SegmentIds = segments,
                ArenaBacking = anchor.Arenas.Backing,
                ArenaObjects = objects,
                Capacity = view.Capacity,
                MaxCapacity = anchor.MaxCapacity,
                BytesUsed = used,
                BytesFree = view.Capacity - used,
                Entries = live,
                ExpiredEntries = expired,
                Generation = view.Generation,
                Permissions = status.Permissions,
                OwnerUid = (int)status.Uid,
                Owner = status.Uid == _uid ? Environment.UserName : status.Uid.ToString(CultureInfo.InvariantCulture),
                Waiters = CountWaiters(),
                WaitPrimitive = WaitPrimitive,
                Warnings = WaitPrimitive == WaitPrimitive.Sleep
                    ? [.. StoreEnvironment.Warnings(_uid), "No kernel wait primitive is usable here (futex, os_sync or ulock): waiters re-check every 10 ms, see a change up to 10 ms late and wake about a hundred times a second."]
                    : StoreEnvironment.Warnings(_uid),
            };
        }
        finally
        {
            view.Exit();
        }
    }

    /// <summary>Every System V segment and POSIX object the store holds, the spare too: an operator removing them by hand
    /// must not miss one. Plain arrays, so that PowerShell can index them.</summary>
    private static (int[] Segments, string[] Objects) ArenaListing(Anchor anchor, ArenaView view)
    {
        var spare = anchor.SpareRef;
        int[] arenas = spare == 0 ? [view.Id] : [view.Id, Anchor.IdOf(spare)];
        return anchor.Arenas is PosixArenas posix
            ? ([anchor.ShmId], Array.ConvertAll(arenas, posix.Name))
            : ([anchor.ShmId, .. arenas], []);
    }

    /// <summary>Live and expired (not yet reclaimed) stacks and queues (not their items, nor locks), by a lock-free walk of the index: the arena's entries
    /// counter includes expired records until compaction drops them. Walked again when the arena is recycled meanwhile;
    /// <paramref name="view"/> is then the view the counts come from.</summary>
    private (long Live, long Expired) CountEntries(ref ArenaView view)
    {
        while (true)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            long live = 0;
            long expired = 0;
            for (long i = 0; i < view.SlotCount; i++)
            {
                var word = Volatile.Read(ref view.Slots[i]);
                if (Index.HoldsRecord(word) && Heap.CheckRecord(view, Index.OffsetOf(word)) > 0
                    && !CoordinationRecords.IsSystemName(new ReadOnlySpan<byte>(view.Address + Index.OffsetOf(word) + Layout.RecordNameOffset, 1)))
                {
                    if (Heap.IsExpired(view, Index.OffsetOf(word), now))
                    {
                        expired++;
                    }
                    else
                    {
                        live++;
                    }
                }
            }

            if (view.StillValid())
            {
                return (live, expired);
            }

            view.Exit();
            view = Enter();
        }
    }

    /// <summary>Walks header, index, heap and every record's checksum; never throws for corruption, reports it.</summary>
    public VerifyReport Verify()
    {
        lock (_processLock)
        {
            ArenaView view;
            try
            {
                // As a writer: recovery first (a dead writer's stale counters are not corruption), and a stable snapshot.
                view = BeginWrite(out _, verifying: true);
            }
            catch (MemStoreException e) when (e.Kind is MemStoreErrorKind.Corrupt or MemStoreErrorKind.ForeignSegment)
            {
                return new VerifyReport { Store = Name, Problems = [e.Message] };
            }

            try
            {
                var report = Verifier.Run(Name, view.Anchor, _uid, view);
                EndWrite(view);
                return report;
            }
            catch
            {
                AbortWrite(view);
                throw;
            }
        }
    }
}
