using Memalloc.Core;
using Memalloc.Core.Backends;
using Memalloc.Registration;

namespace Memalloc;

/// <summary>For .NET callers (and the tests): a store by name, resolved as the cmdlets resolve -Store (a registered
/// name is its Redis store, any other name the shared-memory store). Dispose the result.</summary>
public static class MemallocStores
{
    public static IStackStore Open(string storeName)
    {
        MemStore.ValidateStoreName(storeName);
        return StoreRegistry.Find(storeName) is { } registration
            ? RedisBackendLoader.Backend.Open(registration.ToSettings())
            : MemStore.Open(storeName);
    }
}
