using System.Collections.Generic;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// Finding and removing orphaned segments. An arena is orphaned only when its anchor key has no segment at all: while a
/// store exists (or is being created: the anchor comes first; or destroyed: the anchor goes last), its anchor is there,
/// and arenas a crashed growth left behind are the store's own recovery's business. A segment is judged only after the
/// ownership checks every attach makes (owner and creator are us, mode 0600, not marked for removal) and by its header
/// (arena magic and layout version); anything else is never touched.
/// </summary>
internal static class Orphans
{
    internal static IReadOnlyList<OrphanedSegments> List(uint uid)
    {
        var byAnchor = new SortedDictionary<int, List<ArenaHeader.Identity>>();
        foreach (var segment in StoreDiscovery.OwnSegments(uid))
        {
            if (IsOrphan(uid, segment, out var header))
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
        foreach (var segment in StoreDiscovery.OwnSegments(uid))
        {
            // Checked again, one segment at a time, just before its removal.
            if (IsOrphan(uid, segment, out var header) && header.AnchorKey == anchorKey && Libc.Remove(segment.ShmId) == 0)
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>True for one of our initialised arenas whose anchor key has no segment any more.</summary>
    private static bool IsOrphan(uint uid, ProcSegment segment, out ArenaHeader.Identity header)
    {
        header = default;
        return segment.Key != 0 && segment.Size >= Layout.ArenaHeaderSize && ArenaHeader.TryRead(uid, segment.ShmId, out header)
            && header.IsInitialised && !AnchorKeyInUse(header.AnchorKey);
    }

    /// <summary>True unless the kernel says no segment exists at the key (a foreign one there counts as in use: not
    /// ours to judge).</summary>
    private static bool AnchorKeyInUse(int anchorKey) =>
        anchorKey == 0 || Libc.ShmLookup(anchorKey, out var errno) >= 0 || errno != Libc.ENOENT;
}
