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

    public static bool IsRedis(string storeName) => StoreRegistry.Find(storeName) is not null;
}
