using System.Collections.Generic;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// Finding and removing orphaned arenas. An arena is orphaned only when its anchor key has no segment at all: while a
/// store exists (or is being created: the anchor comes first; or destroyed: the anchor goes last), its anchor is there,
/// and arenas a crashed growth left behind are the store's own recovery's business. An arena is judged only after the
/// ownership checks every mapping makes (owner and creator are us, mode 0600, not marked for removal) and by its header
/// (arena magic and layout version); anything else is never touched. System V arenas come from the kernel's list of
/// segments; POSIX arenas from /dev/shm (Linux only: macOS cannot list them), and only those whose header names this
/// process's IPC namespace, since every IPC namespace of the machine shares /dev/shm and an anchor key free here may be
/// another namespace's live store.
/// </summary>
internal static class Orphans
{
    internal static IReadOnlyList<OrphanedSegments> List(uint uid)
    {
        var byAnchor = new SortedDictionary<int, List<(ArenaHeader.Identity Header, string? Name)>>();
        foreach (var (header, name) in Find(uid))
        {
            if (!byAnchor.TryGetValue(header.AnchorKey, out var group))
            {
                byAnchor[header.AnchorKey] = group = [];
            }

            group.Add((header, name));
        }

        var result = new List<OrphanedSegments>();
        foreach (var (anchorKey, group) in byAnchor)
        {
            var ids = new List<int>();
            var names = new List<string>();
            long bytes = 0;
            var newest = group[0].Header;
            foreach (var (header, name) in group)
            {
                if (name is null)
                {
                    ids.Add(header.Id);
                }
                else
                {
                    names.Add(name);
                }

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
                ObjectNames = names,
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
        foreach (var (header, name) in Find(uid))
        {
            // Each found (and checked) again just before its removal, one at a time.
            if (header.AnchorKey == anchorKey
                && (name is null ? Libc.Remove(header.Id) == 0 : PosixSharedMemory.Unlink(name) == 0))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Every orphaned arena of <paramref name="uid"/>: its header, and for a POSIX object its name (null for a System V
    /// segment).</summary>
    private static IEnumerable<(ArenaHeader.Identity Header, string? Name)> Find(uint uid)
    {
        foreach (var segment in StoreDiscovery.OwnSegments(uid))
        {
            // A key of 0 is IPC_PRIVATE: marked for removal already.
            if (segment.Key != 0 && segment.Size >= Layout.ArenaHeaderSize && SystemVArenas.TryRead(uid, segment.ShmId, out var header)
                && header.IsInitialised && !AnchorKeyInUse(header.AnchorKey))
            {
                yield return (header, null);
            }
        }

        var here = Procfs.IpcNamespaceInode ?? 0;
        foreach (var name in PosixSharedMemory.ListLinuxObjects(ArenaBackingChoice.PosixArenaPrefix))
        {
            if (ArenaBackingChoice.TryParsePosixArenaName(name, out var anchorKey, out var nonce, out var number) && nonce != 0
                && new PosixArenas(anchorKey, nonce).TryReadIdentity(uid, (int)number, out var header)
                && header.IsInitialised && header.AnchorKey == anchorKey && header.Namespace == here && here != 0 && !AnchorKeyInUse(anchorKey))
            {
                yield return (header, name);
            }
        }
    }

    /// <summary>True unless the kernel says no segment exists at the key (a foreign one there counts as in use: not
    /// ours to judge).</summary>
    private static bool AnchorKeyInUse(int anchorKey) =>
        anchorKey == 0 || Libc.ShmLookup(anchorKey, out var errno) >= 0 || errno != Libc.ENOENT;
}
