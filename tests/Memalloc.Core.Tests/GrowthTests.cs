using System;
using System.Linq;
using System.Threading;
using Memalloc.Core;
using Memalloc.Core.Native;
using Xunit;

namespace Memalloc.Core.Tests;

public class GrowthTests
{
    private static byte[] ValueFor(int i, int length)
    {
        var value = new byte[length];
        for (var j = 0; j < length; j++)
        {
            value[j] = (byte)(i + j);
        }

        return value;
    }

    [Fact]
    public void A_full_store_moves_to_a_larger_arena_and_keeps_every_value()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024 });
        var first = t.Store.GetStatistics();
        Assert.Equal(1, first.Generation);
        Assert.Equal(64 * 1024, first.Capacity);
        for (var i = 0; i < 2000; i++)
        {
            t.Store.Set("k" + i, ValueFor(i, 100));
        }

        var grown = t.Store.GetStatistics();
        Assert.True(grown.Generation > 1);
        Assert.True(grown.Capacity > first.Capacity);
        Assert.Equal(2000, grown.Entries);
        Assert.NotEqual(first.SegmentIds[1], grown.SegmentIds[1]);
        Assert.Equal(first.SegmentIds[0], grown.SegmentIds[0]);
        Assert.False(Libc.TryStat(first.SegmentIds[1], out _, out _), "the old arena is removed once replaced");
        for (var i = 0; i < 2000; i++)
        {
            Assert.Equal(ValueFor(i, 100), t.Store.Get("k" + i));
        }

        Assert.True(t.Store.Verify().IsValid);
    }

    [Fact]
    public void Another_instance_follows_the_anchor_to_the_new_arena()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024 });
        using var other = MemStore.OpenExisting(t.StoreName)!;
        other.Set("seen", "1"u8);
        for (var i = 0; i < 1000; i++)
        {
            t.Store.Set("k" + i, ValueFor(i, 200));
        }

        Assert.Equal(ValueFor(999, 200), other.Get("k999"));
        Assert.Equal("1"u8.ToArray(), other.Get("seen"));
        Assert.Equal(t.Store.GetStatistics().Generation, other.GetStatistics().Generation);
        other.Set("after", "2"u8);
        Assert.Equal("2"u8.ToArray(), t.Store.Get("after"));
    }

    [Fact]
    public void Overwriting_in_a_full_store_compacts_instead_of_growing()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024, MaxCapacity = 64 * 1024 });
        for (var round = 0; round < 50; round++)
        {
            for (var i = 0; i < 20; i++)
            {
                t.Store.Set("k" + i, ValueFor(round, 500));
            }
        }

        var stats = t.Store.GetStatistics();
        Assert.Equal(64 * 1024, stats.Capacity);
        Assert.True(stats.Generation > 1, "garbage was reclaimed by compaction into new arenas");
        Assert.Equal(20, stats.Entries);
        Assert.Equal(ValueFor(49, 500), t.Store.Get("k7"));
        Assert.True(t.Store.Verify().IsValid);
    }

    [Fact]
    public void Removing_leaves_reusable_space_and_fragmentation_is_compacted_away()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 128 * 1024, MaxCapacity = 128 * 1024 });
        // Fill, free every other stack, then write stacks larger than any single freed hole.
        for (var i = 0; i < 80; i++)
        {
            t.Store.Set("a" + i, ValueFor(i, 1000));
        }

        for (var i = 0; i < 80; i += 2)
        {
            Assert.True(t.Store.Remove("a" + i));
        }

        for (var i = 0; i < 10; i++)
        {
            t.Store.Set("big" + i, ValueFor(i, 3000));
        }

        for (var i = 1; i < 80; i += 2)
        {
            Assert.Equal(ValueFor(i, 1000), t.Store.Get("a" + i));
        }

        Assert.Equal(50, t.Store.GetStatistics().Entries);
        Assert.Equal(128 * 1024, t.Store.GetStatistics().Capacity);
        Assert.True(t.Store.Verify().IsValid);
    }

    [Fact]
    public void Many_removals_fill_the_index_with_tombstones_and_a_rebuild_clears_them()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 1 << 20 });
        for (var i = 0; i < 20000; i++)
        {
            t.Store.Set("n" + i, "v"u8);
            Assert.True(t.Store.Remove("n" + i));
        }

        Assert.Empty(t.Store.ListNames());
        Assert.True(t.Store.GetStatistics().Generation > 1);
        Assert.True(t.Store.Verify().IsValid);
    }

    [Fact]
    public void Past_the_maximum_a_write_fails_with_CapacityExceeded_and_changes_nothing()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024, MaxCapacity = 256 * 1024 });
        t.Store.Set("keep", "kept"u8);
        var ex = Assert.Throws<MemStoreException>(() => t.Store.Set("huge", new byte[300 * 1024]));
        Assert.Equal(MemStoreErrorKind.CapacityExceeded, ex.Kind);
        Assert.Contains("307200 bytes", ex.Message, StringComparison.Ordinal); // the value's size
        Assert.Contains("262144", ex.Message, StringComparison.Ordinal); // the maximum
        Assert.Contains("free", ex.Message, StringComparison.Ordinal);
        Assert.Contains(OperatingSystem.IsMacOS() ? "kern.sysv.shmmax" : "kernel.shmmax", ex.Message, StringComparison.Ordinal);
        Assert.False(t.Store.Exists("huge"));
        Assert.Equal("kept"u8.ToArray(), t.Store.Get("keep"));
        Assert.Equal(256 * 1024, t.Store.GetStatistics().MaxCapacity);
        Assert.True(t.Store.Verify().IsValid);

        // Filling up with small ones ends the same way, never by evicting anything.
        var written = 0;
        MemStoreException? full = null;
        try
        {
            for (; written < 1000; written++)
            {
                t.Store.Set("f" + written, new byte[1000]);
            }
        }
        catch (MemStoreException e)
        {
            full = e;
        }

        Assert.Equal(MemStoreErrorKind.CapacityExceeded, full?.Kind);
        Assert.Equal(written + 1, t.Store.GetStatistics().Entries);
        Assert.Equal("kept"u8.ToArray(), t.Store.Get("keep"));
        Assert.True(t.Store.Verify().IsValid);
        t.Store.Set("f0", new byte[10]); // overwriting with something smaller still works at the maximum
    }

    [Fact]
    public void The_maximum_comes_from_the_environment_when_not_given()
    {
        Assert.True(Memalloc.Core.StoreEnvironment.TryParseSize("64M", out var size));
        Assert.Equal(64L << 20, size);
        Assert.True(Memalloc.Core.StoreEnvironment.TryParseSize("1048576", out size));
        Assert.Equal(1L << 20, size);
        Assert.False(Memalloc.Core.StoreEnvironment.TryParseSize("lots", out _));
        Assert.True(Memalloc.Core.StoreEnvironment.MaxCapacityFor(new MemStoreOptions(), ArenaBacking.SystemV) >= 64 * 1024);
    }

    [Fact]
    public void Removing_most_of_the_data_shrinks_the_arena_to_its_initial_size_and_frees_the_old_segment()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024 });
        t.Store.Set("keep", ValueFor(7, 500));
        for (var i = 0; i < 64; i++)
        {
            t.Store.Set("big" + i, ValueFor(i, 16 * 1024));
        }

        var grown = t.Store.GetStatistics();
        Assert.True(grown.Capacity >= 16 * 64 * 1024, $"grew to {grown.Capacity}");
        for (var i = 0; i < 64; i++)
        {
            t.Store.Remove("big" + i);
        }

        var shrunk = t.Store.GetStatistics();
        Assert.Equal(64 * 1024, shrunk.Capacity);
        Assert.Equal(1, shrunk.Entries);
        Assert.Equal(ValueFor(7, 500), t.Store.Get("keep"));
        Assert.False(Libc.TryStat(grown.SegmentIds[1], out _, out _), "the large arena went back to the system");
        Assert.True(t.Store.Verify().IsValid);
    }

    [Fact]
    public void An_overwrite_by_a_small_value_shrinks_too_and_never_below_the_initial_capacity()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 128 * 1024 });
        t.Store.Set("v", ValueFor(1, 2 * 1024 * 1024));
        Assert.True(t.Store.GetStatistics().Capacity > 4 * 1024 * 1024);
        t.Store.Set("v", ValueFor(2, 10));
        Assert.Equal(128 * 1024, t.Store.GetStatistics().Capacity);
        Assert.Equal(ValueFor(2, 10), t.Store.Get("v"));
    }

    [Fact]
    public void Live_data_of_a_quarter_or_more_keeps_the_arena()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024 });
        for (var i = 0; i < 40; i++)
        {
            t.Store.Set("k" + i, ValueFor(i, 16 * 1024));
        }

        var before = t.Store.GetStatistics();
        var removable = 0;
        while (true)
        {
            // Stop while the data left after the next removal would still use well over a quarter (30%).
            var stats = t.Store.GetStatistics();
            if ((stats.BytesUsed - (17 * 1024)) * 10 < stats.Capacity * 3)
            {
                break;
            }

            t.Store.Remove("k" + removable++);
        }

        Assert.True(removable > 0, "at least one removal kept live data at a quarter or more");
        Assert.Equal(before.Capacity, t.Store.GetStatistics().Capacity);
    }

    [Fact]
    public void Statistics_count_live_entries_and_expired_ones_apart()
    {
        using var t = new TestStore();
        t.Store.Set("live", "1"u8);
        t.Store.TrySet("soon", "2"u8, new WriteOptions { TimeToLive = TimeSpan.FromMilliseconds(1) }, out _);
        Assert.True(SpinWait.SpinUntil(() => !t.Store.Exists("soon"), TimeSpan.FromSeconds(30)));
        var stats = t.Store.GetStatistics();
        Assert.Equal(1, stats.Entries);
        Assert.Equal(1, stats.ExpiredEntries);
    }

    [Fact]
    public void A_time_to_live_counts_from_the_write_and_is_checked_the_same_on_every_call()
    {
        using var t = new TestStore();
        // The clock is read by the write itself (under the writer lock): the shortest times to live are accepted every
        // time, never refused because the clock moved between a caller's reading and the write's.
        for (var i = 0; i < 50; i++)
        {
            Assert.True(t.Store.TrySet("ttl", "x"u8, new WriteOptions { TimeToLive = TimeSpan.FromMilliseconds(1) }, out _));
            Assert.True(t.Store.TrySet("ttl", "x"u8, new WriteOptions { TimeToLive = TimeSpan.FromTicks(1) }, out _));
        }

        t.Store.TrySet("hour", "x"u8, new WriteOptions { TimeToLive = TimeSpan.FromHours(1) }, out _);
        var info = t.Store.GetInfo("hour")!;
        Assert.Equal(TimeSpan.FromHours(1), info.Expires!.Value - info.Modified);
    }
}
