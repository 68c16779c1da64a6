using System;
using System.Collections.Generic;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// Keeps this process's System V attachments within the per-process limit, which only macOS has (kern.sysv.shmseg, 8 by
/// default; on Linux only the test-only MEMALLOC_TEST_SHMSEG emulates it). Every shmat of the store goes through
/// <see cref="Attach"/>: at the limit, or when the kernel says EMFILE, it parks open store instances that are idle, least
/// recently used first (<see cref="MemStore.TryPark"/>: their attachments are let go, and attached again at their next use),
/// until there is room. Where there is no limit nothing is tracked and nothing is ever parked
/// (docs/store-design.md, "Attachments within shmseg").
/// </summary>
internal static class AttachmentBudget
{
    private static readonly object s_lock = new();
    private static readonly List<WeakReference<MemStore>> s_stores = new();

    /// <summary>The limit: kern.sysv.shmseg on macOS (the smaller of it and the test setting), the test setting on Linux;
    /// null where there is none.</summary>
    internal static int? Limit { get; } = ReadLimit();

    /// <summary>True where attachments are limited: only then are stores registered and their use stamped.</summary>
    internal static bool IsActive { get; } = OperatingSystem.IsMacOS() || Limit is not null;

    private static long s_epoch;

    /// <summary>Moves on each time room is made. A store stamps the epoch it was last used in (one load and a compare per
    /// call, a store only when it changed); the oldest stamp is the least recently used, to within one round of parking.</summary>
    internal static long Epoch => Volatile.Read(ref s_epoch);

    internal static void Register(MemStore store)
    {
        lock (s_lock)
        {
            s_stores.RemoveAll(reference => !reference.TryGetTarget(out _));
            s_stores.Add(new WeakReference<MemStore>(store));
        }
    }

    internal static void Unregister(MemStore store)
    {
        lock (s_lock)
        {
            s_stores.RemoveAll(reference => !reference.TryGetTarget(out var target) || ReferenceEquals(target, store));
        }
    }

    /// <summary>shmat within the budget: makes room first when this process is at the limit, and again when the kernel
    /// refuses with EMFILE (other code of the process may hold attachments too). Never parks
    /// <paramref name="requester"/>, the store attaching. Null with <paramref name="errno"/> when shmat fails: EMFILE once
    /// nothing idle is left to park.</summary>
    internal static SharedMemoryAttachment? Attach(int shmId, long size, MemStore? requester, out int errno)
    {
        if (IsActive && Limit is { } limit && Libc.LiveAttachments >= limit)
        {
            MakeRoom(requester);
        }

        while (true)
        {
            var attachment = Libc.ShmAt(shmId, size, out errno);
            if (attachment is not null || errno != Libc.EMFILE || !IsActive || !MakeRoom(requester))
            {
                return attachment;
            }
        }
    }

    /// <summary>Parks idle stores, least recently used first, until the process is below the limit (at least one when the
    /// limit is unknown). False when nothing could be parked.</summary>
    private static bool MakeRoom(MemStore? requester)
    {
        var candidates = new List<(long Used, MemStore Store)>();
        lock (s_lock)
        {
            foreach (var reference in s_stores)
            {
                if (reference.TryGetTarget(out var store) && !ReferenceEquals(store, requester))
                {
                    candidates.Add((store.UsedEpoch, store));
                }
            }

            Interlocked.Increment(ref s_epoch);
        }

        candidates.Sort((a, b) => a.Used.CompareTo(b.Used));
        var parked = false;
        foreach (var (_, store) in candidates)
        {
            if (store.TryPark())
            {
                parked = true;
                if (Limit is not { } limit || Libc.LiveAttachments < limit)
                {
                    break;
                }
            }
        }

        return parked;
    }

    private static int? ReadLimit()
    {
        var limit = Libc.TestAttachmentLimit;
        if (OperatingSystem.IsMacOS() && DarwinSysctl.TryReadInt64("kern.sysv.shmseg", out var shmseg) == 0 && shmseg is > 0 and < int.MaxValue)
        {
            limit = Math.Min(limit ?? int.MaxValue, (int)shmseg);
        }

        return limit;
    }
}
