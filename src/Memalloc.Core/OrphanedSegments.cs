using System;
using System.Collections.Generic;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>Segments of the current user left without their store: arenas (current or spare) whose headers name an
/// anchor key at which no segment exists any more.</summary>
public sealed class OrphanedSegments
{
    /// <summary>The key of the anchor the segments belonged to (their headers name it).</summary>
    public int AnchorKey { get; init; }
    public required IReadOnlyList<int> SegmentIds { get; init; }
    /// <summary>Bytes the segments hold together.</summary>
    public long Bytes { get; init; }
    /// <summary>Stacks counted in the newest segment's header (its entries counter).</summary>
    public long Entries { get; init; }
    /// <summary>Highest arena generation among the segments.</summary>
    public long Generation { get; init; }
    public int OwnerUid { get; init; }
}

/// <summary>
/// Finding and removing orphaned segments. An arena is orphaned only when its anchor key has no segment at all: while a
/// store exists (or is being created: the anchor comes first; or destroyed: the anchor goes last), its anchor is there,
/// and arenas a crashed growth left behind are the store's own recovery's business. A segment is judged only after the
/// ownership checks every attach makes (owner and creator are us, mode 0600, not marked for removal) and by its header
/// (arena magic and layout version); anything else is never touched.
/// </summary>
internal static unsafe class Orphans
{
    internal static IReadOnlyList<OrphanedSegments> List(uint uid)
    {
        var byAnchor = new SortedDictionary<int, List<ArenaHeader>>();
        foreach (var (key, shmId, size) in MemStore.OwnSegments(uid))
        {
            if (key != 0 && size >= Layout.ArenaHeaderSize && TryReadOrphan(uid, shmId, out var header))
            {
                if (!byAnchor.TryGetValue(header.AnchorKey, out var group))
                {
                    byAnchor[header.AnchorKey] = group = [];
                }

                group.Add(header);
            }
        }

        var result = new List<OrphanedSegments>();
        foreach (var (anchorKey, group) in byAnchor)
        {
            var ids = new List<int>();
            long bytes = 0;
            var newest = group[0];
            foreach (var header in group)
            {
                ids.Add(header.ShmId);
                bytes += header.Size;
                if (header.Generation > newest.Generation)
                {
                    newest = header;
                }
            }

            result.Add(new OrphanedSegments
            {
                AnchorKey = anchorKey,
                SegmentIds = ids,
                Bytes = bytes,
                Entries = newest.Entries,
                Generation = newest.Generation,
                OwnerUid = (int)uid,
            });
        }

        return result;
    }

    internal static int Remove(uint uid, int anchorKey)
    {
        var removed = 0;
        foreach (var (key, shmId, size) in MemStore.OwnSegments(uid))
        {
            // Checked again, one segment at a time, just before its removal.
            if (key != 0 && size >= Layout.ArenaHeaderSize && TryReadOrphan(uid, shmId, out var header)
                && header.AnchorKey == anchorKey && Libc.Remove(shmId) == 0)
            {
                removed++;
            }
        }

        return removed;
    }

    private readonly record struct ArenaHeader(int ShmId, long Size, int AnchorKey, uint Generation, long Entries);

    /// <summary>Reads the header of one of our arenas whose anchor is gone; false for anything else.</summary>
    private static bool TryReadOrphan(uint uid, int shmId, out ArenaHeader header)
    {
        header = default;
        if (!Libc.TryStat(shmId, out var status, out _) || !Anchor.IsOwnedByUs(status, uid, Layout.ArenaHeaderSize)
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
            if (*(ulong*)(address + Layout.ArenaMagicOffset) != Layout.ArenaMagic
                || *(uint*)(address + Layout.ArenaVersionOffset) != Layout.LayoutVersion)
            {
                return false;
            }

            header = new ArenaHeader(shmId, status.Size, *(int*)(address + Layout.ArenaAnchorKeyOffset),
                *(uint*)(address + Layout.ArenaGenerationOffset), *(long*)(address + Layout.ArenaEntriesOffset));
        }
        finally
        {
            Libc.ShmDt(address);
        }

        return !AnchorKeyInUse(header.AnchorKey);
    }

    /// <summary>True unless the kernel says no segment exists at the key (a foreign one there counts as in use: not
    /// ours to judge).</summary>
    private static bool AnchorKeyInUse(int anchorKey) =>
        anchorKey == 0 || Libc.ShmGet(anchorKey, 0, 0, out var errno) >= 0 || errno != Libc.ENOENT;
}
