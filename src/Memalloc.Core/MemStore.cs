using System;
using System.Collections.Generic;

namespace Memalloc.Core;

/// <summary>Options used only when a store is created; an existing store keeps the values it was created with.</summary>
public sealed class MemStoreOptions
{
    /// <summary>Arena size at creation, in bytes (rounded up to whole pages).</summary>
    public long InitialCapacity { get; init; } = 1L << 20;

    /// <summary>Largest arena the store may grow to; null picks a large fraction of what the kernel allows
    /// (environment variable MEMALLOC_MAX_CAPACITY overrides the default).</summary>
    public long? MaxCapacity { get; init; }
}

/// <summary>
/// The facade of the core: one named store of the current user in System V shared memory.
/// Thread-safe; one instance per store per process is enough (the cmdlets cache them).
/// Disposing detaches this process's mappings; the store itself persists until <see cref="Destroy"/> or reboot.
/// CONTRACT: signatures fixed before the implementation (issue 3); bodies are filled in by the store work.
/// </summary>
public sealed class MemStore : IDisposable
{
    private MemStore()
    {
        Name = string.Empty;
    }

    /// <summary>Opens the store of the current user with this name, creating it when missing.</summary>
    public static MemStore Open(string storeName, MemStoreOptions? options = null) => throw new NotImplementedException();

    /// <summary>Opens an existing store; null when the current user has no store of that name.</summary>
    public static MemStore? OpenExisting(string storeName) => throw new NotImplementedException();

    /// <summary>Names of the current user's stores on this machine (IPC namespace), sorted ordinally.</summary>
    public static IReadOnlyList<string> ListStoreNames() => throw new NotImplementedException();

    /// <summary>Removes a store's segments; false when it did not exist. Processes that still have it open get
    /// <see cref="MemStoreErrorKind.StoreRemoved"/> on their next call.</summary>
    public static bool DestroyStore(string storeName) => throw new NotImplementedException();

    /// <summary>Throws <see cref="MemStoreErrorKind.InvalidName"/> unless the name is 1 to 255 UTF-8 bytes without control characters.</summary>
    public static void ValidateName(string name) => throw new NotImplementedException();

    /// <summary>Throws <see cref="MemStoreErrorKind.InvalidStoreName"/> unless valid.</summary>
    public static void ValidateStoreName(string storeName) => throw new NotImplementedException();

    public string Name { get; }

    /// <summary>The value of a stack, or null when it does not exist or has expired. Lock-free.</summary>
    public byte[]? Get(string name) => throw new NotImplementedException();

    /// <summary>Value and metadata in one consistent snapshot. Lock-free.</summary>
    public bool TryGet(string name, out StackEntry? entry) => throw new NotImplementedException();

    /// <summary>Metadata only (no copy of the value); null when missing or expired. Lock-free.</summary>
    public StackInfo? GetInfo(string name) => throw new NotImplementedException();

    /// <summary>True when the stack exists and has not expired. Lock-free.</summary>
    public bool Exists(string name) => throw new NotImplementedException();

    /// <summary>Writes unconditionally (raw encoding, no expiry); returns the new version.</summary>
    public long Set(string name, ReadOnlySpan<byte> value) => throw new NotImplementedException();

    /// <summary>Writes with options. Returns false (and writes nothing) when <see cref="WriteOptions.ExpectedVersion"/>
    /// does not match; otherwise true with the new version. The write commits whole or not at all.</summary>
    public bool TrySet(string name, ReadOnlySpan<byte> value, in WriteOptions options, out long version) => throw new NotImplementedException();

    /// <summary>Removes a stack; false when it did not exist (or the version did not match, when one is given).</summary>
    public bool Remove(string name, long? expectedVersion = null) => throw new NotImplementedException();

    /// <summary>Metadata of every live stack, sorted ordinally by name.</summary>
    public IReadOnlyList<StackInfo> List() => throw new NotImplementedException();

    /// <summary>Names of every live stack, sorted ordinally.</summary>
    public IReadOnlyList<string> ListNames() => throw new NotImplementedException();

    public StoreStatistics GetStatistics() => throw new NotImplementedException();

    /// <summary>Walks header, index, heap and every record's checksum; never throws for corruption, reports it.</summary>
    public VerifyReport Verify() => throw new NotImplementedException();

    /// <summary>Removes this store's segments (as <see cref="DestroyStore"/>) and disposes this instance.</summary>
    public void Destroy() => throw new NotImplementedException();

    public void Dispose() => throw new NotImplementedException();
}
