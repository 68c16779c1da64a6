using System;
using System.Numerics;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// One process's mapping of one arena segment (header, index, heap). The geometry (capacity, slot count, heap
/// offset) is read and bounds-checked once at attach and cached, so later reads never trust it again.
/// Reference-counted: the store holds one reference while the view is current, every operation one more; the
/// segment is detached when the last is released, so a reader still copying from an old generation is safe.
/// </summary>
internal sealed unsafe class ArenaView
{
    /// <summary>Operation references are counted in per-thread stripes, one cache line each, so that threads reading
    /// the same store do not all bounce one counter line (see <see cref="TryEnter"/>).</summary>
    private const int StripeStride = 8; // longs: 64 bytes

    private static readonly int s_stripeCount = (int)Math.Min(64, BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount));

    private static int s_nextStripe;

    [ThreadStatic]
    private static int s_threadStripe;

    private readonly long[] _stripes = new long[s_stripeCount * StripeStride];

    /// <summary>Base references: the store's (while current) and those of whoever created the view.</summary>
    private int _references = 1;
    private int _freed;

    /// <summary>Takes over one reference on <paramref name="mapping"/> (the caller's).</summary>
    internal ArenaView(Anchor anchor, Mapping mapping, uint generation, long capacity, long slotCount)
    {
        anchor.AddReference();
        Anchor = anchor;
        Mapping = mapping;
        Address = mapping.Address;
        ShmId = mapping.ShmId;
        Generation = generation;
        Capacity = capacity;
        SlotCount = slotCount;
        SlotMask = (ulong)slotCount - 1;
        HeapOffset = Layout.HeapOffsetFor(slotCount);
    }

    internal Anchor Anchor { get; }

    /// <summary>The attachment this view reads through; several generations of a recycled arena share one.</summary>
    internal Mapping Mapping { get; }

    internal byte* Address { get; }

    internal int ShmId { get; }

    internal uint Generation { get; }

    internal long Capacity { get; }

    internal long SlotCount { get; }

    internal ulong SlotMask { get; }

    internal long HeapOffset { get; }

    internal ulong* Slots => (ulong*)(Address + Layout.IndexOffset);

    internal ulong ArenaRef => Anchor.MakeArenaRef(Generation, ShmId);

    internal ref long Sequence => ref *(long*)(Address + Layout.ArenaSequenceOffset);

    internal ref long Bump => ref *(long*)(Address + Layout.ArenaBumpOffset);

    internal ref long Entries => ref *(long*)(Address + Layout.ArenaEntriesOffset);

    internal ref long LiveBytes => ref *(long*)(Address + Layout.ArenaLiveBytesOffset);

    internal ref long Tombstones => ref *(long*)(Address + Layout.ArenaTombstonesOffset);

    internal ref long GarbageBytes => ref *(long*)(Address + Layout.ArenaGarbageBytesOffset);

    /// <summary>
    /// Seqlock check at the end of a lock-free read: true when this arena still carries the generation it had when it was
    /// attached, i.e. it was not recycled (rebuilt as a newer generation) while the reader looked at it. A writer recycling
    /// an arena stores the new generation, then a full fence, before it changes anything else in it; so if the reader,
    /// after its reads and a fence, still sees the old generation, nothing it read had been touched.
    /// Throws Corrupt when the generation changed although the anchor still names this arena (never a recycle).
    /// </summary>
    internal bool StillValid()
    {
        // Every load of the copy must complete before the generation is loaded again, on every architecture. A volatile
        // read orders only what comes after it, so without a fence the JIT may sink an earlier plain load of the copy
        // below it (once the copy is inlined into the caller, say), and arm64 CPUs reorder loads themselves; x86 keeping
        // loads in order in hardware does not stop the compiler. Volatile.ReadBarrier (a load-load fence) needs .NET 10
        // and the module targets .NET 8, so a full fence it is: a few nanoseconds per read.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref *(uint*)(Address + Layout.ArenaGenerationOffset)) == Generation)
        {
            return true;
        }

        // Only an arena the anchor no longer names is ever recycled. If the anchor still names this one, its header
        // was overwritten by something else: report it rather than retry forever.
        if (Anchor.ArenaRef == ArenaRef)
        {
            throw new MemStoreException(MemStoreErrorKind.Corrupt,
                $"The store is corrupt: the current arena's header (segment {ShmId}) no longer carries generation {Generation}. Run Verify, or remove the store.");
        }

        return false;
    }

    /// <summary>Adds a base reference; only valid while the caller holds one (or the store's is known to be there).</summary>
    internal bool TryAddReference() => ReferenceCount.TryAdd(ref _references);

    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            TryFree();
        }
    }

    private static int ThreadStripe()
    {
        var stripe = s_threadStripe;
        if (stripe == 0)
        {
            stripe = s_threadStripe = (Interlocked.Increment(ref s_nextStripe) & (s_stripeCount - 1)) + 1;
        }

        return (stripe - 1) * StripeStride;
    }

    /// <summary>
    /// Takes an operation reference on this thread's stripe; false when the view has lost its last base reference
    /// (replaced or disposed: read the store's current view again). The interlocked increment is a full fence before
    /// the base check, and <see cref="TryFree"/> sums the stripes only after the base reached zero, so either this
    /// call sees the base gone and backs off, or the freer sees the stripe and leaves the view alone.
    /// </summary>
    internal bool TryEnter()
    {
        var stripe = ThreadStripe();
        Interlocked.Increment(ref _stripes[stripe]);
        if (Volatile.Read(ref _references) > 0)
        {
            return true;
        }

        Interlocked.Decrement(ref _stripes[stripe]);
        TryFree();
        return false;
    }

    /// <summary>Drops the reference <see cref="TryEnter"/> took (on the same thread: one operation never changes thread).</summary>
    internal void Exit()
    {
        Interlocked.Decrement(ref _stripes[ThreadStripe()]);
        if (Volatile.Read(ref _references) == 0)
        {
            TryFree();
        }
    }

    /// <summary>Detaches once no base reference and no operation reference is left; exactly once.</summary>
    private void TryFree()
    {
        if (Volatile.Read(ref _references) != 0)
        {
            return;
        }

        for (var i = 0; i < _stripes.Length; i += StripeStride)
        {
            if (Volatile.Read(ref _stripes[i]) != 0)
            {
                return;
            }
        }

        if (Interlocked.CompareExchange(ref _freed, 1, 0) == 0)
        {
            Mapping.Release();
            Anchor.Release();
        }
    }

    /// <summary>True for a segment IPC_RMID has marked for destruction: Linux sets SHM_DEST and reports the key as
    /// IPC_PRIVATE (0), which a derived arena key never is.</summary>
    internal static bool IsMarkedForRemoval(in SegmentStatus status) =>
        status.Key == 0 || (OperatingSystem.IsLinux() && (status.Mode & LinuxAbi.SHM_DEST) != 0);

    /// <summary>Attaches the arena an anchor reference names, after checking that the segment is ours and its header
    /// is the one the anchor expects. Null when the segment no longer exists (the caller re-reads the reference).</summary>
    internal static ArenaView? Attach(Anchor anchor, uint uid, ulong arenaRef, Mapping? known = null)
    {
        var shmId = Anchor.ShmIdOf(arenaRef);
        var generation = Anchor.GenerationOf(arenaRef);
        if (known is not null && known.ShmId == shmId && known.TryAddReference())
        {
            // A segment this process still has attached (a recycled arena coming back): the same segment it checked
            // when it attached it, since a shmid is not reused while attached. Only the header needs checking.
            return CheckHeader(anchor, known, generation, known.Size);
        }

        if (!Libc.TryStat(shmId, out var status, out var errno))
        {
            if (errno == Libc.EINVAL || errno == Libc.EIDRM)
            {
                return null;
            }

            throw Libc.Failure("shmctl", errno, "Checking the store's arena");
        }

        if (IsMarkedForRemoval(status))
        {
            // IPC_RMID from outside (ipcrm): still attachable by id while someone has it mapped, but every write
            // to it would vanish with the last detach. Treat it as gone.
            return null;
        }

        if (!Anchor.IsOwnedByUs(status, uid, Layout.ArenaHeaderSize))
        {
            throw new MemStoreException(MemStoreErrorKind.ForeignSegment,
                $"The arena segment {shmId} named by the store's anchor is not owned by this user with mode 0600 (owner {status.Uid}, creator {status.Cuid}, mode {Convert.ToString(status.Mode & 0x1FF, 8)}); it was not read.");
        }

        var address = Libc.ShmAt(shmId, out errno);
        if (address == null)
        {
            if (errno == Libc.EINVAL || errno == Libc.EIDRM)
            {
                return null;
            }

            throw Libc.Failure("shmat", errno, "Attaching the store's arena");
        }

        return CheckHeader(anchor, new Mapping(address, shmId, status.Size), generation, status.Size);
    }

    /// <summary>Checks an attached arena's header against the anchor's reference; consumes the mapping reference.</summary>
    private static ArenaView CheckHeader(Anchor anchor, Mapping mapping, uint generation, long segmentSize)
    {
        var address = mapping.Address;
        var shmId = mapping.ShmId;
        // Each field is read once: what is checked is what the view caches.
        var capacity = Volatile.Read(ref *(long*)(address + Layout.ArenaCapacityOffset));
        var slotCount = Volatile.Read(ref *(long*)(address + Layout.ArenaSlotCountOffset));
        var heapOffset = Volatile.Read(ref *(long*)(address + Layout.ArenaHeapOffsetOffset));
        var problem =
            *(ulong*)(address + Layout.ArenaMagicOffset) != Layout.ArenaMagic ? "bad magic"
            : *(uint*)(address + Layout.ArenaVersionOffset) != Layout.LayoutVersion ? "unknown layout version"
            : *(uint*)(address + Layout.ArenaGenerationOffset) != generation ? "generation differs from the anchor's"
            : *(int*)(address + Layout.ArenaAnchorKeyOffset) != anchor.Key ? "belongs to another anchor"
            : Layout.GeometryProblem(capacity, slotCount, heapOffset, segmentSize);
        if (problem is not null)
        {
            mapping.Release();
            throw new MemStoreException(MemStoreErrorKind.Corrupt, $"The store's arena (segment {shmId}, generation {generation}) is not valid: {problem}. Run Verify or remove the store.");
        }

        return new ArenaView(anchor, mapping, generation, capacity, slotCount);
    }
}

/// <summary>One attachment (shmat) of an arena segment, detached when the last view using it is released.</summary>
internal sealed unsafe class Mapping
{
    private int _references = 1;

    internal Mapping(byte* address, int shmId, long size)
    {
        Address = address;
        ShmId = shmId;
        Size = size;
    }

    internal byte* Address { get; }

    internal int ShmId { get; }

    /// <summary>Bytes of the segment as IPC_STAT reported them at attach.</summary>
    internal long Size { get; }

    internal bool TryAddReference() => ReferenceCount.TryAdd(ref _references);

    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Libc.ShmDt(Address);
        }
    }
}

/// <summary>Creating arena segments and choosing their geometry.</summary>
internal static unsafe class Arena
{
    /// <summary>Smallest arena: the header, a minimal index and some heap.</summary>
    internal const long MinCapacity = 32 * 1024;

    /// <summary>Whether a retired arena of this size is kept as the spare (see <see cref="Layout.MaxSpareCapacity"/>).
    /// Never on macOS: its default SysV limits (8 segments per process, 4 MiB in all) cannot afford a second arena.</summary>
    internal static bool KeepsSpare(long capacity) => capacity <= Layout.MaxSpareCapacity && !OperatingSystem.IsMacOS();

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
    /// Creates and initialises an empty arena at key(anchor, generation), trying later generations when a key is
    /// taken by a segment that is not ours, and removing an orphan of a crashed growth (ours, not current).
    /// With <paramref name="growing"/>, records the pending generation, key and shmid in the anchor for recovery.
    /// Returns the attached view (one reference).
    /// </summary>
    internal static ArenaView Create(Anchor anchor, uint uid, uint firstGeneration, long capacity, long slotCount, long sequence, bool growing)
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

            var shmId = Libc.ShmGet(key, capacity, Libc.IPC_CREAT | Libc.IPC_EXCL | 0x180, out var errno);
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

                if (errno == Libc.EINVAL || errno == Libc.ENOMEM || errno == Libc.ENOSPC)
                {
                    throw new MemStoreException(MemStoreErrorKind.CapacityExceeded,
                        $"The kernel refused a shared memory segment of {capacity} bytes (shmget: errno {errno}). {KernelLimitHint()}",
                        "shmget", errno);
                }

                throw Libc.Failure("shmget", errno, "Creating an arena");
            }

            if (growing)
            {
                anchor.PendingShmId = shmId;
                CrashPoints.Hit?.Invoke("grow.after-shmget");
            }

            var address = Libc.ShmAt(shmId, out errno);
            if (address == null)
            {
                Libc.Remove(shmId);
                throw Libc.Failure("shmat", errno, "Attaching a new arena");
            }

            // A fresh segment is zero-filled by the kernel: only the header needs writing; the index is all empty slots.
            // The magic goes last, so that a header with the magic is complete (IsOurs trusts its anchor key).
            *(uint*)(address + Layout.ArenaVersionOffset) = Layout.LayoutVersion;
            *(uint*)(address + Layout.ArenaGenerationOffset) = generation;
            *(int*)(address + Layout.ArenaAnchorKeyOffset) = anchor.Key;
            *(long*)(address + Layout.ArenaCapacityOffset) = capacity;
            *(long*)(address + Layout.ArenaSlotCountOffset) = slotCount;
            *(long*)(address + Layout.ArenaHeapOffsetOffset) = Layout.HeapOffsetFor(slotCount);
            *(long*)(address + Layout.ArenaSequenceOffset) = sequence;
            *(long*)(address + Layout.ArenaBumpOffset) = Layout.HeapOffsetFor(slotCount);
            *(ulong*)(address + Layout.ArenaMagicOffset) = Layout.ArenaMagic;
            return new ArenaView(anchor, new Mapping(address, shmId, capacity), generation, capacity, slotCount);
        }

        throw new MemStoreException(MemStoreErrorKind.ForeignSegment,
            $"Could not create an arena for the store: {KeyDerivation.ArenaProbes} successive keys are taken by segments that are not this store's.");
    }

    /// <summary>
    /// Reuses the spare arena as generation <paramref name="generation"/> when it has exactly the wanted geometry: the
    /// new generation is stored first (with a full fence: readers still in it will notice and retry), then the index
    /// is cleared and the header reset. Null (spare untouched) when it does not fit or is not ours.
    /// </summary>
    internal static ArenaView? TryRecycle(Anchor anchor, uint uid, ulong spareRef, uint generation, long capacity, long slotCount, long sequence, Mapping? known)
    {
        var shmId = Anchor.ShmIdOf(spareRef);
        if (shmId == Anchor.ShmIdOf(anchor.ArenaRef))
        {
            return null;
        }

        // Asked every time, even of a segment this process still has attached: an operator may have removed the spare
        // (ipcrm), and a removed segment published as the current arena would take the store's data with it at the
        // last detach. One system call per compaction, never on the write path.
        if (!Libc.TryStat(shmId, out var status, out _) || !Anchor.IsOwnedByUs(status, uid, capacity) || ArenaView.IsMarkedForRemoval(status))
        {
            return null; // gone, not ours, too small, or marked for removal: do not reuse (Grow drops it)
        }

        Mapping mapping;
        if (known is not null && known.ShmId == shmId && known.Size >= capacity && known.TryAddReference())
        {
            mapping = known; // still attached here: no shmat, and its pages are still mapped (no page faults)
        }
        else
        {
            var attached = Libc.ShmAt(shmId, out _);
            if (attached == null)
            {
                return null;
            }

            mapping = new Mapping(attached, shmId, status.Size);
        }

        var address = mapping.Address;
        if (*(ulong*)(address + Layout.ArenaMagicOffset) != Layout.ArenaMagic || *(int*)(address + Layout.ArenaAnchorKeyOffset) != anchor.Key
            || *(long*)(address + Layout.ArenaCapacityOffset) != capacity || *(long*)(address + Layout.ArenaSlotCountOffset) != slotCount)
        {
            mapping.Release();
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
        return new ArenaView(anchor, mapping, generation, capacity, slotCount);
    }

    /// <summary>
    /// True when a segment the anchor recorded (pending, previous or spare) or found at one of its arena keys is one of
    /// this anchor's arenas, so that removing it cannot hurt anything that is not ours. Ours means: this user's, mode
    /// 0600, not already marked for removal, and either initialised (magic, layout version and, the proof, this anchor's
    /// key in its header; with <paramref name="generation"/>, that generation too), or not yet initialised (magic 0)
    /// but at exactly the key and of exactly the size a crashed growth recorded (<paramref name="expectedKey"/>,
    /// <paramref name="expectedSize"/>; 0 = none expected). Any other segment is foreign: another program's segment with
    /// zero first bytes at a reused shmid or a colliding key must never be removed as a leftover of ours.
    /// </summary>
    internal static bool IsOurs(Anchor anchor, uint uid, int shmId, int expectedKey = 0, long expectedSize = 0, uint? generation = null)
    {
        if (shmId < 0 || !Libc.TryStat(shmId, out var status, out _) || !Anchor.IsOwnedByUs(status, uid, Layout.ArenaHeaderSize)
            || ArenaView.IsMarkedForRemoval(status))
        {
            return false;
        }

        var address = Libc.ShmAt(shmId, out _);
        if (address == null)
        {
            return false;
        }

        try
        {
            var magic = Volatile.Read(ref *(ulong*)(address + Layout.ArenaMagicOffset));
            if (magic == Layout.ArenaMagic)
            {
                return *(uint*)(address + Layout.ArenaVersionOffset) == Layout.LayoutVersion
                    && *(int*)(address + Layout.ArenaAnchorKeyOffset) == anchor.Key
                    && (generation is not { } g || *(uint*)(address + Layout.ArenaGenerationOffset) == g);
            }

            return magic == 0 && expectedKey != 0 && expectedSize > 0 && status.Key == expectedKey && status.Size == expectedSize;
        }
        finally
        {
            Libc.ShmDt(address);
        }
    }

    /// <summary>Removes the segment at an arena key when it is ours (<see cref="IsOurs"/>: an initialised arena of this
    /// generation, or an uninitialised one of <paramref name="expectedSize"/>) and not the current arena. True when
    /// removed; false when it is foreign (then the generation is skipped).</summary>
    internal static bool RemoveOrphan(Anchor anchor, uint uid, int key, uint generation, long expectedSize)
    {
        var shmId = Libc.ShmGet(key, 0, 0, out _);
        if (shmId < 0 || shmId == Anchor.ShmIdOf(anchor.ArenaRef) || !IsOurs(anchor, uid, shmId, key, expectedSize, generation))
        {
            return false;
        }

        return Libc.Remove(shmId) == 0;
    }

    internal static string KernelLimitHint() => OperatingSystem.IsMacOS()
        ? "The kernel limits System V shared memory through kern.sysv.shmmax and kern.sysv.shmall (sysctl)."
        : "The kernel limits System V shared memory through kernel.shmmax and kernel.shmall (sysctl, /proc/sys/kernel/).";
}

/// <summary>The counting shared by arena views and mappings: a count that reached zero stays there (the object is
/// being freed), so a new reference may only be added while at least one is still held.</summary>
internal static class ReferenceCount
{
    internal static bool TryAdd(ref int references)
    {
        var current = Volatile.Read(ref references);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }
}
