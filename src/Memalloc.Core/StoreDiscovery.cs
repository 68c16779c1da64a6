using System;
using System.Collections.Generic;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// Finding the current user's stores without knowing their names: the kernel's list of segments (Linux's
/// /proc/sysvipc/shm, <see cref="Procfs"/>), filtered to this user's, and each anchor-sized one asked through
/// <see cref="Anchor"/> for its store name. macOS has no such list without sysctl plumbing, so there only stores a
/// process can name are found (none listed): documented in about_Memalloc.
/// </summary>
internal static class StoreDiscovery
{
    /// <summary>Names of <paramref name="uid"/>'s live stores, sorted ordinally.</summary>
    internal static IReadOnlyList<string> ListStoreNames(uint uid)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var segment in OwnSegments(uid))
        {
            // Anchor-sized and not IPC_PRIVATE (removed, or never at a key): a candidate for Anchor to judge.
            if (segment.Size == Layout.AnchorSize && segment.Key != Libc.IPC_PRIVATE
                && Anchor.TryReadStoreName(segment.ShmId, segment.Key, uid) is { } name)
            {
                names.Add(name);
            }
        }

        return [.. names];
    }

    /// <summary>Every segment whose owner and creator are <paramref name="uid"/>, as the kernel lists them.</summary>
    internal static List<ProcSegment> OwnSegments(uint uid) =>
        Procfs.SharedMemorySegments().FindAll(segment => segment.Uid == uid && segment.Cuid == uid);
}
