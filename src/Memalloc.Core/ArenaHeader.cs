using System.Collections.Generic;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// The checks of an arena's header, in one place for everyone who reads one: attaching the store's arena
/// (<see cref="Arena.Attach"/>), Verify, deciding whether a segment is one of a store's arenas before removing it
/// (<see cref="IsOurs"/>, recovery and destroy), and finding orphaned arenas (<see cref="Orphans"/>).
/// </summary>
internal static unsafe class ArenaHeader
{
    /// <summary>
    /// What is wrong with the header at <paramref name="address"/> for the arena of generation <paramref name="generation"/>
    /// of the anchor <paramref name="anchorKey"/> in a segment of <paramref name="segmentSize"/> bytes, or null. Each field
    /// is read once: <paramref name="capacity"/> and <paramref name="slotCount"/> are what was checked. With
    /// <paramref name="all"/>, every problem is added to it (Verify); the first is returned either way.
    /// </summary>
    internal static string? Problem(byte* address, int anchorKey, uint generation, long segmentSize, out long capacity, out long slotCount,
        List<string>? all = null)
    {
        capacity = Volatile.Read(ref *(long*)(address + Layout.ArenaCapacityOffset));
        slotCount = Volatile.Read(ref *(long*)(address + Layout.ArenaSlotCountOffset));
        var heapOffset = Volatile.Read(ref *(long*)(address + Layout.ArenaHeapOffsetOffset));
        string? first = null;
        void Check(bool wrong, string? problem)
        {
            if (wrong && problem is not null)
            {
                first ??= problem;
                all?.Add(problem);
            }
        }

        Check(*(ulong*)(address + Layout.ArenaMagicOffset) != Layout.ArenaMagic, "bad magic");
        Check(!Layout.IsKnownVersion(*(uint*)(address + Layout.ArenaVersionOffset)), "unknown layout version");
        Check(*(uint*)(address + Layout.ArenaGenerationOffset) != generation, "generation differs from the anchor's");
        Check(*(int*)(address + Layout.ArenaAnchorKeyOffset) != anchorKey, "belongs to another anchor");
        var geometry = Layout.GeometryProblem(capacity, slotCount, heapOffset, segmentSize);
        Check(geometry is not null, geometry);

        return first;
    }

    /// <summary>The identity fields of an arena-sized segment of <c>uid</c>'s, read by <see cref="TryRead"/>.</summary>
    internal readonly record struct Identity(int ShmId, int Key, long Size, ulong Magic, uint Version, int AnchorKey, uint Generation, long Entries)
    {
        /// <summary>An initialised arena of this layout (its magic is written last, so its other fields are complete).</summary>
        internal bool IsInitialised => Magic == Layout.ArenaMagic && Layout.IsKnownVersion(Version);
    }

    /// <summary>
    /// Reads the header fields of segment <paramref name="shmId"/> when the kernel says it may be ours (owner and creator
    /// are <paramref name="uid"/>, mode 0600, at least a header long, not marked for removal); false for anything else,
    /// including a segment that vanished or cannot be attached. Attaches for the read only.
    /// </summary>
    internal static bool TryRead(uint uid, int shmId, out Identity identity)
    {
        identity = default;
        if (shmId < 0 || !Libc.TryStat(shmId, out var status, out _) || !status.IsOwnedBy(uid, Layout.ArenaHeaderSize) || status.IsMarkedForRemoval)
        {
            return false;
        }

        using var attachment = Libc.ShmAt(shmId, status.Size, out _);
        if (attachment is null)
        {
            return false;
        }

        var address = attachment.Address;
        identity = new Identity(shmId, status.Key, status.Size, Volatile.Read(ref *(ulong*)(address + Layout.ArenaMagicOffset)),
            *(uint*)(address + Layout.ArenaVersionOffset), *(int*)(address + Layout.ArenaAnchorKeyOffset),
            *(uint*)(address + Layout.ArenaGenerationOffset), *(long*)(address + Layout.ArenaEntriesOffset));
        return true;
    }

    /// <summary>
    /// True when a segment the anchor recorded (pending, previous or spare) or found at one of its arena keys is one of
    /// this anchor's arenas, so that removing it cannot hurt anything that is not ours. Ours means: it passes
    /// <see cref="TryRead"/>'s ownership checks, and either it is initialised with this anchor's key in its header (the
    /// proof; with <paramref name="generation"/>, that generation too), or it is not yet initialised (magic 0) but sits at
    /// exactly the key and has exactly the size a crashed growth recorded (<paramref name="expectedKey"/>,
    /// <paramref name="expectedSize"/>; 0 = none expected). Any other segment is foreign: another program's segment with
    /// zero first bytes at a reused shmid or a colliding key must never be removed as a leftover of ours.
    /// </summary>
    internal static bool IsOurs(Anchor anchor, uint uid, int shmId, int expectedKey = 0, long expectedSize = 0, uint? generation = null)
    {
        if (!TryRead(uid, shmId, out var header))
        {
            return false;
        }

        if (header.Magic == Layout.ArenaMagic)
        {
            return header.IsInitialised && header.AnchorKey == anchor.Key && (generation is not { } g || header.Generation == g);
        }

        return header.Magic == 0 && expectedKey != 0 && expectedSize > 0 && header.Key == expectedKey && header.Size == expectedSize;
    }
}
