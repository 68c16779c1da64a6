using System.Collections.Generic;
using System.Threading;

namespace Memalloc.Core;

/// <summary>
/// The checks of an arena's header, in one place for everyone who reads one: attaching the store's arena
/// (<see cref="Arena.Attach"/>), Verify, deciding whether a segment is one of a store's arenas before removing it
/// (<see cref="ArenaSegments.IsOurs"/>, recovery and destroy), and finding orphaned arenas (<see cref="Orphans"/>).
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

    /// <summary>The identity fields of an arena of <c>uid</c>'s (<see cref="ArenaSegments.TryReadIdentity"/>): its id (shmid or
    /// object number), its System V key (0 for a POSIX object) and size, and its header's.</summary>
    internal readonly record struct Identity(int Id, int Key, long Size, ulong Magic, uint Version, int AnchorKey, uint Generation, long Entries,
        ulong Namespace = 0)
    {
        /// <summary>An initialised arena of this layout (its magic is written last, so its other fields are complete).</summary>
        internal bool IsInitialised => Magic == Layout.ArenaMagic && Layout.IsKnownVersion(Version);
    }

    /// <summary>The identity fields of the arena header at <paramref name="address"/> (the magic read with acquire: it is
    /// written last).</summary>
    internal static Identity ReadIdentity(byte* address, int id, int key, long size) => new(id, key, size,
        Volatile.Read(ref *(ulong*)(address + Layout.ArenaMagicOffset)), *(uint*)(address + Layout.ArenaVersionOffset),
        *(int*)(address + Layout.ArenaAnchorKeyOffset), *(uint*)(address + Layout.ArenaGenerationOffset), *(long*)(address + Layout.ArenaEntriesOffset),
        *(ulong*)(address + Layout.ArenaNamespaceOffset));
}
