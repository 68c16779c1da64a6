using System;
using System.Collections.Generic;
using System.Threading;
using Memalloc.Core.Backends;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// The facade of the core: one named store of the current user in System V shared memory.
/// Thread-safe; one instance per store per process is enough (the cmdlets cache them).
/// Disposing detaches this process's mappings; the store itself persists until <see cref="Destroy"/> or reboot.
/// Reads are lock-free (see docs/store-design.md); writes take the process lock, then the anchor's lock word.
/// This file opens, lists and destroys stores; the view life cycle is in MemStore.Views.cs, reads in MemStore.Reads.cs,
/// writes in MemStore.Writes.cs, update turns in MemStore.Turns.cs, statistics and Verify in MemStore.Statistics.cs.
/// </summary>
public sealed unsafe partial class MemStore : IStackStore
{
    /// <summary>The anchor, owned by this instance from construction until <see cref="Dispose"/> (views borrow it), so
    /// that the lock word and the arena reference never move under a call in progress. Replaced only when a parked
    /// instance attaches again (MemStore.Views.cs, under the view lock); a call works through its view's anchor.</summary>
    private Anchor _anchor;

    /// <summary>The anchor's creation time: what tells this store from another made later at the same key.</summary>
    private readonly long _created;
    private readonly uint _uid;
    private readonly object _processLock;
    private int _disposed;

    /// <summary>Takes over <paramref name="anchor"/> and <paramref name="attachments"/> once constructed.</summary>
    private MemStore(string name, Anchor anchor, uint uid, ArenaAttachments attachments)
    {
        Name = name;
        _anchor = anchor;
        _uid = uid;
        _attachments = attachments;
        _created = anchor.Created;
        _processLock = WriterLock.ProcessLockFor(anchor.Key);
        _lastRemovalCheck = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        attachments.Owner = this;
        _current = AttachCurrent();
        if (AttachmentBudget.IsActive)
        {
            AttachmentBudget.Register(this);
        }
    }

    public string Name { get; }

    /// <summary>Opens the store of the current user with this name, creating it when missing.</summary>
    public static MemStore Open(string storeName, MemStoreOptions? options = null)
    {
        return OpenCore(storeName, options ?? new MemStoreOptions(), create: true)!;
    }

    /// <summary>Opens an existing store; null when the current user has no store of that name.</summary>
    public static MemStore? OpenExisting(string storeName) => OpenCore(storeName, null, create: false);

    private static MemStore? OpenCore(string storeName, MemStoreOptions? options, bool create)
    {
        StoreName.Validate(storeName);
        EnsureSupportedPlatform();
        var uid = Libc.GetUid();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var attachments = new ArenaAttachments();
            var anchor = Anchor.Find(uid, storeName, out var freeKey);
            if (anchor is null)
            {
                if (!create)
                {
                    attachments.Dispose();
                    return null;
                }

                anchor = TryCreate(storeName, uid, freeKey, options!, attachments);
                if (anchor is null)
                {
                    attachments.Dispose();
                    continue; // another process created a segment at that key first: scan again
                }
            }

            MemStore? store = null;
            try
            {
                store = new MemStore(storeName, anchor, uid, attachments);
                return store;
            }
            catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.StoreRemoved && anchor.ArenaRef == Layout.RemovedArenaRef)
            {
                // Destroyed between finding and attaching: look again (a broken store's error goes to the caller).
            }
            finally
            {
                if (store is null)
                {
                    // A store that was made owns them until it is disposed.
                    attachments.Dispose();
                    anchor.Dispose();
                }
            }
        }

        throw new MemStoreException(MemStoreErrorKind.StoreRemoved, $"Store '{storeName}' kept disappearing while being opened.");
    }

    /// <summary>Creates the store at <paramref name="freeKey"/>: the anchor (claimed, not yet visible), its first arena,
    /// then the anchor's magic. Null when another process took the key first.</summary>
    private static Anchor? TryCreate(string storeName, uint uid, int freeKey, MemStoreOptions options, ArenaAttachments attachments)
    {
        if (freeKey == 0)
        {
            throw new MemStoreException(MemStoreErrorKind.ForeignSegment,
                $"Store '{storeName}' cannot be created: all {KeyDerivation.AnchorProbes} keys derived for it are taken by segments that are not this user's store. " +
                "Inspect them with 'ipcs -m' and remove the stale ones.");
        }

        // The first arena is the initial capacity, or the maximum when that is smaller; the anchor records the larger.
        var backing = options.ArenaBacking ?? ArenaBackingChoice.ForNewStore();
        var initial = Math.Max(Layout.MinArenaCapacity, Arena.RoundToPages(options.InitialCapacity));
        var maximum = StoreEnvironment.MaxCapacityFor(options, backing);
        var anchor = Anchor.TryCreate(freeKey, uid, storeName, Math.Max(maximum, initial), backing);
        if (anchor is null)
        {
            return null;
        }

        try
        {
            var capacity = Math.Min(initial, Math.Max(maximum, Layout.MinArenaCapacity));
            anchor.Borrow(); // the first view's
            var first = Arena.Create(anchor, uid, 1, capacity, Arena.SlotCountFor(capacity, 0), Layout.InitialSequence(DateTime.UtcNow), growing: false, attachments);
            anchor.Publish(first.ArenaRef, first.Capacity);
            first.Release();
            return anchor;
        }
        catch
        {
            anchor.Abandon();
            throw;
        }
    }

    private static void EnsureSupportedPlatform()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            throw new MemStoreException(MemStoreErrorKind.PlatformNotSupported, "Memalloc needs System V shared memory: Linux or macOS.");
        }
    }

    /// <summary>Names of the current user's stores on this machine (IPC namespace), sorted ordinally.</summary>
    public static IReadOnlyList<string> ListStoreNames()
    {
        EnsureSupportedPlatform();
        return StoreDiscovery.ListStoreNames(Libc.GetUid());
    }

    /// <summary>Arenas and spares of the current user whose store's anchor segment is gone (removed by hand: ipcrm,
    /// systemd-logind's RemoveIPC), grouped by the anchor key their headers name. Nothing can reach their stacks.</summary>
    public static IReadOnlyList<OrphanedSegments> ListOrphanedSegments()
    {
        EnsureSupportedPlatform();
        return Orphans.List(Libc.GetUid());
    }

    /// <summary>Removes the orphaned segments that name <paramref name="anchorKey"/> (each checked again first: ours, an
    /// arena, its anchor still gone); returns how many were removed.</summary>
    public static int RemoveOrphanedSegments(int anchorKey)
    {
        EnsureSupportedPlatform();
        return Orphans.Remove(Libc.GetUid(), anchorKey);
    }

    /// <summary>Removes a store's segments; false when it did not exist. Processes that still have it open get
    /// <see cref="MemStoreErrorKind.StoreRemoved"/> on their next call.</summary>
    public static bool DestroyStore(string storeName)
    {
        StoreName.Validate(storeName);
        EnsureSupportedPlatform();
        var uid = Libc.GetUid();
        using var anchor = Anchor.Find(uid, storeName, out _);
        if (anchor is null)
        {
            return false;
        }

        StoreDestruction.Destroy(anchor, uid);
        return true;
    }

    /// <summary>Throws <see cref="MemStoreErrorKind.InvalidName"/> unless the name is 1 to 255 UTF-8 bytes without control characters.</summary>
    public static void ValidateName(string name)
    {
        Span<byte> buffer = stackalloc byte[Layout.MaxNameBytes];
        StackName.Encode(name, buffer);
    }

    /// <summary>Throws <see cref="MemStoreErrorKind.InvalidStoreName"/> unless valid.</summary>
    public static void ValidateStoreName(string storeName) => StoreName.Validate(storeName);

    /// <summary>Removes this store's segments (as <see cref="DestroyStore"/>) and disposes this instance.</summary>
    public void Destroy()
    {
        var view = Enter();
        try
        {
            StoreDestruction.Destroy(view.Anchor, _uid);
        }
        finally
        {
            view.Exit();
            Dispose();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (AttachmentBudget.IsActive)
        {
            AttachmentBudget.Unregister(this);
        }

        Anchor anchor;
        lock (_viewLock)
        {
            var view = Volatile.Read(ref _current);
            Volatile.Write(ref _current, null);
            view?.Release();
            _attachments.Dispose();
            anchor = _anchor;
        }

        // Last: a call still inside keeps its view, and through it the anchor, until it leaves.
        anchor.Dispose();
    }
}
