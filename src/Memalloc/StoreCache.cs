using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using Memalloc.Core;
using Memalloc.Core.Backends;
using Memalloc.Registration;

namespace Memalloc;

/// <summary>
/// The open stores of this process, shared by every runspace that imported the module: a registered name opens its Redis
/// store, any other name its shared-memory store (a registration made or dropped meanwhile replaces the cached instance).
/// A store is thread-safe and one instance per store name is enough; names are never cached here,
/// only the attachments. Every call on an instance holds a <see cref="StoreLease"/>; an instance dropped from the cache
/// (its store was removed) is disposed, detaching its segments, when the last lease on it ends, so a long session that
/// removes and re-creates stores keeps only the attachments of the stores that exist, and no runspace ever meets a
/// disposed instance in the middle of a call.
/// </summary>
internal static class StoreCache
{
    private static readonly ConcurrentDictionary<string, Entry> s_stores = new(StringComparer.Ordinal);
    private static int s_exitHooked;

    /// <summary>A counted use of the cached instance of a store (its <see cref="Store"/> is null when the store does
    /// not exist and was not to be created). Dispose it when the call is done.</summary>
    public static StoreLease Acquire(string storeName, bool create)
    {
        var registration = StoreRegistry.Find(storeName);
        while (true)
        {
            if (s_stores.TryGetValue(storeName, out var cached) && !ReferenceEquals(cached.Registration, registration))
            {
                Forget(storeName, cached.Store); // registered or unregistered since it was opened
                continue;
            }

            if (cached is not { } entry)
            {
                IStackStore? opened = registration is not null ? RedisBackendLoader.Backend.Open(registration.ToSettings())
                    : create ? MemStore.Open(storeName) : MemStore.OpenExisting(storeName);
                if (opened is null)
                {
                    return default;
                }

                var fresh = new Entry(opened, registration);
                entry = s_stores.GetOrAdd(storeName, fresh);
                if (!ReferenceEquals(entry, fresh))
                {
                    // Another runspace opened it first; nobody else has seen ours, so it can go now.
                    opened.Dispose();
                }
            }

            if (entry.TryEnter())
            {
                return new StoreLease(entry);
            }

            // Dropped and released by its last user between the lookup and here: it is out of the cache, look again.
        }
    }

    /// <summary>Drops this instance (its store was removed underneath); a later call opens afresh. The instance is
    /// disposed once no call is inside it (the caller's own lease included).</summary>
    public static void Forget(string storeName, IStackStore store)
    {
        if (s_stores.TryGetValue(storeName, out var entry) && ReferenceEquals(entry.Store, store)
            && ((ICollection<KeyValuePair<string, Entry>>)s_stores).Remove(new(storeName, entry)))
        {
            entry.Drop();
        }
    }

    /// <summary>Drops whatever instance is cached for the name (after Remove-MemStore).</summary>
    public static void Forget(string storeName)
    {
        if (s_stores.TryRemove(storeName, out var entry))
        {
            entry.Drop();
        }
    }

    /// <summary>Drops every store this process opened; called once, at process exit.</summary>
    public static void DetachAll()
    {
        foreach (var name in s_stores.Keys)
        {
            Forget(name);
        }
    }

    public static void HookProcessExit()
    {
        if (Interlocked.Exchange(ref s_exitHooked, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DetachAll();
        }
    }

    /// <summary>A cached instance and the count of its users: the cache's own reference (until it is dropped) plus one per
    /// lease. A count that reached zero stays there: the instance is disposed and can no longer be entered.</summary>
    internal sealed class Entry
    {
        private int _users = 1;
        private int _dropped;

        internal Entry(IStackStore store, StoreRegistration? registration)
        {
            Store = store;
            Registration = registration;
        }

        internal IStackStore Store { get; }

        /// <summary>The registration the store was opened for; null for a shared-memory store.</summary>
        internal StoreRegistration? Registration { get; }

        internal bool TryEnter()
        {
            var current = Volatile.Read(ref _users);
            while (current > 0)
            {
                var seen = Interlocked.CompareExchange(ref _users, current + 1, current);
                if (seen == current)
                {
                    return true;
                }

                current = seen;
            }

            return false;
        }

        internal void Exit()
        {
            if (Interlocked.Decrement(ref _users) == 0)
            {
                try
                {
                    Store.Dispose();
                }
                catch (MemStoreException)
                {
                    // Detaching cannot fail in a way the caller could act on; the kernel detaches at exit anyway.
                }
            }
        }

        /// <summary>Gives up the cache's own reference, once.</summary>
        internal void Drop()
        {
            if (Interlocked.Exchange(ref _dropped, 1) == 0)
            {
                Exit();
            }
        }
    }
}
