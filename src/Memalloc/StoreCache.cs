using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using Memalloc.Core;

namespace Memalloc;

/// <summary>
/// The open stores of this process, shared by every runspace that imported the module.
/// A MemStore is thread-safe and one instance per store name is enough; names are never cached here,
/// only the attachments. Instances dropped from the cache (their store was removed) are not disposed:
/// another runspace may be inside a call on them at that moment, so they are detached at process exit.
/// </summary>
internal static class StoreCache
{
    private static readonly ConcurrentDictionary<string, MemStore> s_stores = new(StringComparer.Ordinal);
    private static readonly ConcurrentBag<MemStore> s_dropped = new();
    private static int s_exitHooked;

    /// <summary>The open store, or null when the user has no store of that name.</summary>
    public static MemStore? GetExisting(string storeName)
    {
        if (s_stores.TryGetValue(storeName, out var store))
        {
            return store;
        }

        var opened = MemStore.OpenExisting(storeName);
        return opened is null ? null : Publish(storeName, opened);
    }

    /// <summary>The open store, created when missing (writers only).</summary>
    public static MemStore GetOrCreate(string storeName)
    {
        if (s_stores.TryGetValue(storeName, out var store))
        {
            return store;
        }

        return Publish(storeName, MemStore.Open(storeName));
    }

    /// <summary>Drops this instance (its store was removed underneath); a later call opens afresh.</summary>
    public static void Forget(string storeName, MemStore store)
    {
        if (((ICollection<KeyValuePair<string, MemStore>>)s_stores).Remove(new(storeName, store)))
        {
            s_dropped.Add(store);
        }
    }

    /// <summary>Drops whatever instance is cached for the name (after Remove-MemStore).</summary>
    public static void Forget(string storeName)
    {
        if (s_stores.TryRemove(storeName, out var store))
        {
            s_dropped.Add(store);
        }
    }

    /// <summary>Detaches every store this process opened; called once, at process exit.</summary>
    public static void DetachAll()
    {
        foreach (var name in s_stores.Keys)
        {
            Forget(name);
        }

        while (s_dropped.TryTake(out var store))
        {
            try
            {
                store.Dispose();
            }
            catch (MemStoreException)
            {
                // The process is exiting; the kernel detaches whatever is left.
            }
        }
    }

    public static void HookProcessExit()
    {
        if (Interlocked.Exchange(ref s_exitHooked, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DetachAll();
        }
    }

    private static MemStore Publish(string storeName, MemStore opened)
    {
        var winner = s_stores.GetOrAdd(storeName, opened);
        if (!ReferenceEquals(winner, opened))
        {
            // Another runspace opened it first; nobody else has seen ours, so it can go now.
            opened.Dispose();
        }

        return winner;
    }
}
