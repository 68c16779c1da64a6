using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.Versioning;
using Memalloc.Core.Native;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>
/// Stores whose arenas are POSIX shared memory objects (what a stock Mac gets; forced here through the options): they
/// grow, compact, recover and are removed as System V stores are, never touch an object that is not theirs, and leave
/// nothing in /dev/shm behind them (docs/store-design.md, "Arena backing").
/// Linux only: they look at the objects in /dev/shm.
/// </summary>
[SupportedOSPlatform("linux")]
public class PosixArenaTests
{
    private static MemStoreOptions Small(ArenaBacking backing = ArenaBacking.Posix, long maxCapacity = 64 * 1024) =>
        new() { InitialCapacity = 64 * 1024, MaxCapacity = maxCapacity, ArenaBacking = backing };

    /// <summary>This store's arena objects as /dev/shm lists them (names with their leading '/').</summary>
    private static string[] ArenaObjects(int anchorKey) =>
        PosixSharedMemory.ListLinuxObjects(string.Create(CultureInfo.InvariantCulture, $"{ArenaBackingChoice.PosixArenaPrefix}{(uint)anchorKey:x8}."))
            .Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void Posix_store_grows_and_compacts_keeping_every_value_and_at_most_two_objects()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024, ArenaBacking = ArenaBacking.Posix });
        for (var i = 0; i < 200; i++)
        {
            t.Store.Set("big" + i, new byte[4096]);
        }

        for (var i = 0; i < 5000; i++)
        {
            t.Store.Set("k" + (i % 10), BitConverter.GetBytes(i));
        }

        var stats = t.Store.GetStatistics();
        Assert.Equal(ArenaBacking.Posix, stats.ArenaBacking);
        Assert.True(stats.Capacity >= 200 * 4096, $"grew to {stats.Capacity}");
        Assert.Equal([t.Store.AnchorShmId], stats.SegmentIds); // only the anchor is a System V segment
        var objects = ArenaObjects(t.Store.AnchorKey);
        Assert.Equal(stats.ArenaObjects.Order(StringComparer.Ordinal), objects); // listed, so removing by hand misses nothing
        Assert.InRange(objects.Length, 1, 2);
        Assert.Equal(BitConverter.GetBytes(4999), t.Store.Get("k9"));
        Assert.Equal(200, t.Store.ListNames().Count(name => name.StartsWith("big", StringComparison.Ordinal)));
        Assert.True(t.Store.Verify().IsValid);

        // Another instance (as another process would) reads the same memory through its own mappings.
        using (var other = MemStore.OpenExisting(t.StoreName))
        {
            Assert.NotNull(other);
            Assert.Equal(BitConverter.GetBytes(4999), other.Get("k9"));
        }

        Assert.True(MemStore.DestroyStore(t.StoreName));
        Assert.Empty(ArenaObjects(t.Store.AnchorKey));
    }

    [Fact]
    public void Posix_growth_abandoned_after_shm_open_leaves_no_object_once_recovered()
    {
        using var t = new TestStore(Small(maxCapacity: 4 << 20));
        t.Store.Set("a", "1"u8);
        RecoveryTests.WithCrashAt("grow.after-shmget", () =>
        {
            for (var i = 0; i < 100; i++)
            {
                t.Store.Set("big" + i, new byte[4096]);
            }
        });
        Assert.Equal(2, ArenaObjects(t.Store.AnchorKey).Length); // the current arena and the half-made one

        t.Store.Set("after", "a"u8); // the next writer recovers
        Assert.Equal("1"u8.ToArray(), t.Store.Get("a"));
        Assert.Equal(t.Store.GetStatistics().ArenaObjects, ArenaObjects(t.Store.AnchorKey));
        Assert.True(t.Store.Verify().IsValid);
    }

    [Theory]
    [InlineData("grow.after-recycle-mark")]
    [InlineData("grow.after-copy")]
    [InlineData("grow.after-publish")]
    [InlineData("grow.after-rmid-old")]
    public void Posix_compaction_abandoned_at_any_step_loses_nothing_and_leaks_no_object(string point)
    {
        using var t = new TestStore(Small());
        for (var i = 0; i < 3000; i++)
        {
            t.Store.Set("k" + (i % 10), BitConverter.GetBytes(i));
        }

        RecoveryTests.WithCrashAt(point, () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                t.Store.Set("k" + (i % 10), BitConverter.GetBytes(1000 + i));
            }
        });
        t.Store.Set("after", "a"u8);
        for (var i = 0; i < 3000; i++)
        {
            t.Store.Set("k" + (i % 10), BitConverter.GetBytes(i));
        }

        Assert.Equal(BitConverter.GetBytes(2999), t.Store.Get("k9"));
        var report = t.Store.Verify();
        Assert.True(report.IsValid, string.Join("\n", report.Problems));
        Assert.InRange(ArenaObjects(t.Store.AnchorKey).Length, 1, 2);
        Assert.True(MemStore.DestroyStore(t.StoreName));
        Assert.Empty(ArenaObjects(t.Store.AnchorKey));
    }

    [Fact]
    public void Arena_object_unlinked_from_outside_is_a_removed_store_not_a_silent_loss()
    {
        using var t = new TestStore(Small());
        t.Store.Set("a", "1"u8);
        var current = t.Store.GetStatistics().ArenaObjects[0];
        File.Delete("/dev/shm" + current); // what 'rm /dev/shm/...' or another program's shm_unlink does

        var e = Assert.Throws<MemStoreException>(() => t.Store.GetStatistics());
        Assert.Equal(MemStoreErrorKind.StoreRemoved, e.Kind);
        e = Assert.Throws<MemStoreException>(() => MemStore.OpenExisting(t.StoreName));
        Assert.Equal(MemStoreErrorKind.StoreRemoved, e.Kind);
        Assert.Contains("/dev/shm", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Foreign_object_at_the_next_arena_name_is_skipped_and_never_touched()
    {
        using var t = new TestStore(Small(maxCapacity: 1 << 20));
        t.Store.Set("a", "1"u8);
        var stats = t.Store.GetStatistics();
        Assert.True(ArenaBackingChoice.TryParsePosixArenaName(stats.ArenaObjects[0], out var key, out var nonce, out var number));

        // Somebody else's object (mode 0644) at the name the next growth would use.
        var squatted = ArenaBackingChoice.PosixArenaName(key, nonce, number + 1);
        var path = "/dev/shm" + squatted;
        File.WriteAllBytes(path, [42, 0, 0, 0]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        try
        {
            for (var i = 0; i < 100; i++)
            {
                t.Store.Set("big" + i, new byte[4096]); // grows past the squatted name
            }

            Assert.Equal(100, t.Store.ListNames().Count(name => name.StartsWith("big", StringComparison.Ordinal)));
            Assert.DoesNotContain(squatted, t.Store.GetStatistics().ArenaObjects);
            Assert.True(MemStore.DestroyStore(t.StoreName));
            Assert.Equal([42, 0, 0, 0], File.ReadAllBytes(path)); // neither unlinked nor written by the growth or the destroyer
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Posix_arenas_of_an_anchor_removed_by_hand_are_listed_as_orphans_and_removed()
    {
        var t = new TestStore(Small());
        var key = t.Store.AnchorKey;
        t.Store.Set("a", "1"u8);
        Assert.Equal(0, Libc.Remove(t.Store.AnchorShmId)); // ipcrm -m of the anchor alone
        t.Store.Dispose();
        Assert.NotEmpty(ArenaObjects(key));

        var orphans = MemStore.ListOrphanedSegments().Single(o => o.AnchorKey == key);
        Assert.Empty(orphans.SegmentIds);
        Assert.Equal(ArenaObjects(key), orphans.ObjectNames.Order(StringComparer.Ordinal));
        Assert.Equal(orphans.ObjectNames.Count, MemStore.RemoveOrphanedSegments(key));
        Assert.Empty(ArenaObjects(key));
    }

    [Fact]
    public void Store_records_its_backing_and_a_nonce_in_anchor_bytes_384_to_391()
    {
        using var posix = new TestStore(Small());
        using var systemV = new TestStore(Small(ArenaBacking.SystemV));
        uint backing = 9, nonce = 9;
        posix.Store.WithAnchor(address => (backing, nonce) = Read(address));
        Assert.Equal(1u, backing);
        Assert.NotEqual(0u, nonce);
        systemV.Store.WithAnchor(address => (backing, nonce) = Read(address));
        Assert.Equal((0u, 0u), (backing, nonce));

        static unsafe (uint, uint) Read(IntPtr address) =>
            (*(uint*)((byte*)address + Layout.ArenaBackingOffset), *(uint*)((byte*)address + Layout.ArenaNonceOffset));
    }

    [Fact]
    public void Anchor_naming_a_backing_this_version_does_not_know_is_corrupt_and_still_removable()
    {
        var t = new TestStore(Small(ArenaBacking.SystemV));
        var key = t.Store.AnchorKey;
        t.Store.Set("a", "1"u8);
        t.Store.WithAnchor(address => { unsafe { *(uint*)((byte*)address + Layout.ArenaBackingOffset) = 7; } });
        t.Store.Dispose();

        var e = Assert.Throws<MemStoreException>(() => MemStore.OpenExisting(t.StoreName));
        Assert.Equal(MemStoreErrorKind.Corrupt, e.Kind);
        Assert.Contains("arena backing", e.Message, StringComparison.Ordinal);
        Assert.True(MemStore.DestroyStore(t.StoreName));
        Assert.Null(MemStore.OpenExisting(t.StoreName));

        // Its arena could not be found through the anchor: it is an orphan now, listed and removable as any other.
        Assert.Equal(1, MemStore.RemoveOrphanedSegments(key));
    }
}
