using System;
using Memalloc.Core.Backends;

namespace Memalloc;

/// <summary>One call's use of a cached store instance (see <see cref="StoreCache.Acquire"/>).</summary>
internal readonly struct StoreLease : IDisposable
{
    private readonly StoreCache.Entry? _entry;

    internal StoreLease(StoreCache.Entry entry)
    {
        _entry = entry;
    }

    /// <summary>The instance; null when the store does not exist (and was not to be created).</summary>
    public IStackStore? Store => _entry?.Store;

    public void Dispose() => _entry?.Exit();
}
