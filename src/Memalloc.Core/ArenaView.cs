using System;
using System.Numerics;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// One process's view of one arena generation (header, index, heap). The geometry (capacity, slot count, heap offset)
/// is read and bounds-checked once at attach (<see cref="Arena.Attach"/>) and cached, so later reads never trust it again.
/// Reference-counted: the store holds one base reference while the view is current, every operation an operation
/// reference; the view gives back its borrows of the arena's attachment and of the anchor when the last is released, so
/// a reader still copying from an old generation is safe. Several generations of a recycled arena share one attachment.
/// </summary>
internal sealed unsafe class ArenaView
{
    /// <summary>Operation references are counted in per-thread stripes, one cache line each, so that threads reading
    /// the same store do not all bounce one counter line (see <see cref="TryEnter"/>): measured, a shared counter costs
    /// every reader a contended cache line.</summary>
    private const int StripeStride = 8; // longs: 64 bytes

    private static readonly int s_stripeCount = (int)Math.Min(64, BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount));

    private static int s_nextStripe;

    [ThreadStatic]
    private static int s_threadStripe;

    private readonly long[] _stripes = new long[s_stripeCount * StripeStride];

    /// <summary>Base references: the store's (while current) and those of whoever created the view.</summary>
    private int _references = 1;
    private int _freed;

    /// <summary>Takes over one borrow of <paramref name="attachment"/> and one of <paramref name="anchor"/> from the caller.</summary>
    internal ArenaView(Anchor anchor, SharedMapping attachment, uint generation, long capacity, long slotCount)
    {
        Anchor = anchor;
        Attachment = attachment;
        Address = attachment.Address;
        Id = attachment.Id;
        Generation = generation;
        Capacity = capacity;
        SlotCount = slotCount;
        SlotMask = (ulong)slotCount - 1;
        HeapOffset = Layout.HeapOffsetFor(slotCount);
        Verified = new VerifiedRecords(HeapOffset, capacity);
    }

    internal Anchor Anchor { get; }

    /// <summary>The attachment (System V) or mapping (POSIX) this view reads through.</summary>
    internal SharedMapping Attachment { get; }

    internal byte* Address { get; }

    /// <summary>The arena's id in references: its shmid, or its POSIX object number.</summary>
    internal int Id { get; }

    internal uint Generation { get; }

    internal long Capacity { get; }

    internal long SlotCount { get; }

    internal ulong SlotMask { get; }

    internal long HeapOffset { get; }

    /// <summary>The records of this generation whose checksum this process has checked.</summary>
    internal VerifiedRecords Verified { get; }

    internal ulong* Slots => (ulong*)(Address + Layout.IndexOffset);

    internal ulong ArenaRef => Anchor.MakeArenaRef(Generation, Id);

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
                $"The store is corrupt: the current arena's header ({Anchor.Arenas.Describe(Id)}) no longer carries generation {Generation}. Run Verify, or remove the store.");
        }

        return false;
    }

    /// <summary>True while some operation holds a reference (a snapshot: one may start right after). Parking an idle store
    /// asks it; a store in use would keep its attachments anyway.</summary>
    internal bool InUse
    {
        get
        {
            for (var i = 0; i < _stripes.Length; i += StripeStride)
            {
                if (Volatile.Read(ref _stripes[i]) != 0)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Adds a base reference; false once the last one is gone (the view is being freed). A count that reached
    /// zero stays there, so a new reference may only be added while at least one is still held.</summary>
    internal bool TryAddReference()
    {
        var current = Volatile.Read(ref _references);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

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

    /// <summary>Gives the borrows back once no base reference and no operation reference is left; exactly once.</summary>
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
            Attachment.Return();
            Anchor.Return();
        }
    }
}
