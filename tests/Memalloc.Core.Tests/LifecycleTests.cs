using System;
using System.Threading;
using Memalloc.Core;
using Memalloc.Core.Native;
using Xunit;

namespace Memalloc.Core.Tests;

public class LifecycleTests
{
    [Fact]
    public void Destroyed_underneath_other_instances_get_StoreRemoved()
    {
        using var t = new TestStore();
        t.Store.Set("a", "1"u8);
        using var other = MemStore.OpenExisting(t.StoreName)!;
        Assert.True(MemStore.DestroyStore(t.StoreName));
        Assert.Equal(MemStoreErrorKind.StoreRemoved, Assert.Throws<MemStoreException>(() => other.Get("a")).Kind);
        Assert.Equal(MemStoreErrorKind.StoreRemoved, Assert.Throws<MemStoreException>(() => t.Store.Set("a", "2"u8)).Kind);
        var ex = Assert.Throws<MemStoreException>(() => other.ListNames());
        Assert.Contains("RemoveIPC", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Remove-MemStore", ex.Message, StringComparison.Ordinal);
        Assert.Null(MemStore.OpenExisting(t.StoreName));
        Assert.False(MemStore.DestroyStore(t.StoreName));
    }

    [Fact]
    public void Removed_by_ipcrm_is_noticed_by_writers_and_statistics()
    {
        using var t = new TestStore();
        t.Store.Set("a", "1"u8);
        var stats = t.Store.GetStatistics();
        // What 'ipcrm -m' does: IPC_RMID without marking the anchor.
        Assert.Equal(0, Libc.Remove(stats.SegmentIds[1]));
        Assert.Equal(0, Libc.Remove(stats.SegmentIds[0]));
        Assert.Equal(MemStoreErrorKind.StoreRemoved, Assert.Throws<MemStoreException>(() => t.Store.GetStatistics()).Kind);
        Thread.Sleep(300);
        Assert.Equal(MemStoreErrorKind.StoreRemoved, Assert.Throws<MemStoreException>(() => t.Store.Set("b", "2"u8)).Kind);
        Assert.Null(MemStore.OpenExisting(t.StoreName));
    }

    [Fact]
    public void Destroy_then_open_gives_a_new_empty_store()
    {
        var name = "t-" + Guid.NewGuid().ToString("N");
        var store = MemStore.Open(name);
        store.Set("a", "1"u8);
        store.Destroy();
        Assert.Throws<ObjectDisposedException>(() => store.Get("a"));
        using var again = MemStore.Open(name);
        Assert.Null(again.Get("a"));
        again.Destroy();
        Assert.DoesNotContain(name, MemStore.ListStoreNames());
    }

    [Fact]
    public void Dispose_detaches_and_the_store_persists()
    {
        var name = "t-" + Guid.NewGuid().ToString("N");
        try
        {
            var store = MemStore.Open(name);
            store.Set("a", "1"u8);
            store.Dispose();
            store.Dispose();
            Assert.Throws<ObjectDisposedException>(() => store.Get("a"));
            Assert.Throws<ObjectDisposedException>(() => store.Set("a", "2"u8));
            using var again = MemStore.OpenExisting(name)!;
            Assert.Equal("1"u8.ToArray(), again.Get("a"));
            Assert.Contains(name, MemStore.ListStoreNames());
        }
        finally
        {
            MemStore.DestroyStore(name);
        }
    }

    [Fact]
    public void Missing_stores_are_not_created_by_OpenExisting()
    {
        var name = "t-" + Guid.NewGuid().ToString("N");
        Assert.Null(MemStore.OpenExisting(name));
        Assert.False(MemStore.DestroyStore(name));
        Assert.DoesNotContain(name, MemStore.ListStoreNames());
    }

    [Fact]
    public void Statistics_describe_the_segments()
    {
        using var t = new TestStore();
        t.Store.Set("a", new byte[100]);
        var stats = t.Store.GetStatistics();
        Assert.Equal(t.StoreName, stats.Name);
        Assert.Equal(t.Store.AnchorKey, stats.Key);
        Assert.Equal(2, stats.SegmentIds.Count);
        Assert.Equal(t.Store.AnchorShmId, stats.SegmentIds[0]);
        Assert.Equal("rw-------", stats.Permissions);
        Assert.Equal((int)Libc.GetUid(), stats.OwnerUid);
        Assert.Equal(1 << 20, stats.Capacity);
        Assert.Equal(1, stats.Entries);
        Assert.Equal(stats.Capacity, stats.BytesUsed + stats.BytesFree);
        Assert.True(stats.BytesUsed > 100);
        Assert.NotNull(stats.Warnings);
        Assert.True(stats.MaxCapacity >= stats.Capacity);
        Assert.True(Libc.TryStat(stats.SegmentIds[0], out var status, out _));
        Assert.Equal(stats.Key, status.Key);
        Assert.Equal(0x180, status.Mode & 0x1FF);
    }

    [Fact]
    public void Two_opens_share_one_store()
    {
        using var t = new TestStore();
        using var second = MemStore.Open(t.StoreName);
        t.Store.Set("x", "1"u8);
        Assert.Equal("1"u8.ToArray(), second.Get("x"));
        Assert.Equal(t.Store.AnchorShmId, second.AnchorShmId);
    }
}

public class ForeignKeyTests
{
    [Fact]
    public unsafe void A_non_anchor_segment_at_the_first_key_is_skipped_and_left_untouched()
    {
        var name = "t-" + Guid.NewGuid().ToString("N");
        var key = MemStore.AnchorKeyFor(name, 0);
        var foreign = Libc.ShmGet(key, 4096, Libc.IPC_CREAT | Libc.IPC_EXCL | 0x180, out var errno);
        Assert.True(foreign >= 0, "errno " + errno);
        try
        {
            using var attachment = Libc.ShmAt(foreign, 4096, out _)!;
            new Span<byte>(attachment.Address, 4096).Fill(0xAB);
            using (var store = MemStore.Open(name))
            {
                Assert.NotEqual(key, store.AnchorKey);
                Assert.Equal(MemStore.AnchorKeyFor(name, 1), store.AnchorKey);
                store.Set("a", "1"u8);
            }

            using (var again = MemStore.OpenExisting(name)!)
            {
                Assert.Equal("1"u8.ToArray(), again.Get("a"));
            }

            Assert.True(MemStore.DestroyStore(name));
            Assert.True(new Span<byte>(attachment.Address, 4096).IndexOfAnyExcept((byte)0xAB) < 0, "the foreign segment was never written");
        }
        finally
        {
            Libc.Remove(foreign);
            MemStore.DestroyStore(name);
        }
    }
}

public class BrokenStoreTests
{
    [Fact]
    public void A_store_whose_arena_was_removed_by_hand_says_so_and_can_be_destroyed_and_recreated()
    {
        var name = "t-" + Guid.NewGuid().ToString("N");
        try
        {
            int arena;
            using (var store = MemStore.Open(name))
            {
                store.Set("a", "1"u8);
                arena = store.GetStatistics().SegmentIds[1];
            }

            Assert.Equal(0, Libc.Remove(arena)); // as 'ipcrm -m <arena>' would
            var ex = Assert.Throws<MemStoreException>(() => MemStore.Open(name));
            Assert.Equal(MemStoreErrorKind.StoreRemoved, ex.Kind);
            Assert.Contains("no longer exists", ex.Message, StringComparison.Ordinal);
            Assert.True(MemStore.DestroyStore(name));
            using var fresh = MemStore.Open(name);
            Assert.Null(fresh.Get("a"));
            fresh.Set("a", "2"u8);
            Assert.True(fresh.Verify().IsValid);
        }
        finally
        {
            MemStore.DestroyStore(name);
        }
    }
}
