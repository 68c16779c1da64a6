using System;
using System.Collections.Generic;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// Finding the current user's stores without knowing their names: the kernel's list of segments (Linux's
/// /proc/sysvipc/shm, <see cref="Procfs"/>; macOS's kern.sysv.ipcs.shm iterator, <see cref="DarwinSysctl"/>, which is
/// what ipcs reads there), filtered to this user's, and each anchor-sized one asked through <see cref="Anchor"/> for its
/// store name.
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
        KernelSegments().FindAll(segment => segment.Uid == uid && segment.Cuid == uid);

    private static List<ProcSegment> KernelSegments() => OperatingSystem.IsMacOS()
        ? DarwinSysctl.ListSegments().ConvertAll(segment => new ProcSegment(segment.Status.Key, segment.ShmId, segment.Status.Size,
            segment.Status.CreatorPid, segment.Status.Attached, segment.Status.Uid, segment.Status.Cuid))
        : Procfs.SharedMemorySegments();
}
