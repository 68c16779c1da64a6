using System;
using System.Collections.Generic;
using Memalloc.Core;

namespace Memalloc.Registration;

/// <summary>The store names of the current user: the shared-memory stores and the registered Redis stores (a registered
/// name hides a shared-memory store of the same name, as it does for every cmdlet).</summary>
internal static class StoreNames
{
    public static IReadOnlyList<string> List()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        names.UnionWith(StoreRegistry.All().Keys);
        names.UnionWith(MemStore.ListStoreNames());
        return [.. names];
    }

    /// <summary>Whether the name is a registered Redis store, for messages; an unreadable registry (which the store call
    /// itself reports) counts as not.</summary>
    public static bool IsRedis(string storeName)
    {
        try
        {
            return StoreRegistry.Find(storeName) is not null;
        }
        catch (MemStoreException)
        {
            return false;
        }
    }
}
