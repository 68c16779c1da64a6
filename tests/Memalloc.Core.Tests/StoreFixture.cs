using System;
using Memalloc.Core;

namespace Memalloc.Core.Tests;

/// <summary>A store with a unique name, destroyed at the end: the SysV namespace is shared with other test runs.</summary>
internal sealed class TestStore : IDisposable
{
    public TestStore(MemStoreOptions? options = null)
    {
        StoreName = "t-" + Guid.NewGuid().ToString("N");
        Store = MemStore.Open(StoreName, options);
    }

    public string StoreName { get; }

    public MemStore Store { get; }

    public void Dispose()
    {
        Store.Dispose();
        MemStore.DestroyStore(StoreName);
    }
}
