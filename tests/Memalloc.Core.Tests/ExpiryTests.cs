using System;
using System.Threading;
using Memalloc.Core;
using Xunit;

namespace Memalloc.Core.Tests;

public class ExpiryTests
{
    [Fact]
    public void Expired_stacks_are_hidden_from_every_reader()
    {
        using var t = new TestStore();
        t.Store.TrySet("short", "s"u8, new WriteOptions { Expires = DateTime.UtcNow.AddMilliseconds(60) }, out _);
        t.Store.TrySet("long", "l"u8, new WriteOptions { Expires = DateTime.UtcNow.AddHours(1) }, out _);
        Assert.True(t.Store.Exists("short"));
        Thread.Sleep(100);
        Assert.Null(t.Store.Get("short"));
        Assert.False(t.Store.Exists("short"));
        Assert.Null(t.Store.GetInfo("short"));
        Assert.False(t.Store.TryGet("short", out _));
        Assert.Equal(["long"], t.Store.ListNames());
        Assert.Single(t.Store.List());
        Assert.False(t.Store.Remove("short"), "an expired stack is missing for Remove too");
        Assert.Equal("l"u8.ToArray(), t.Store.Get("long"));
        Assert.True(t.Store.Verify().IsValid);
    }

    /// <summary>Issue 9, defect 6: a time to live is counted by the store from the write's own clock reading (taken
    /// under the lock), so expires - modified is exactly the time to live; it cannot be combined with an expiry time,
    /// and must be positive.</summary>
    [Fact]
    public void TimeToLive_counts_from_the_write()
    {
        using var t = new TestStore();
        Assert.True(t.Store.TrySet("ttl", "v"u8, new WriteOptions { TimeToLive = TimeSpan.FromSeconds(30) }, out _));
        var info = t.Store.GetInfo("ttl")!;
        Assert.Equal(TimeSpan.FromSeconds(30), info.Expires - info.Modified);
        Assert.True(t.Store.TrySet("tiny", "v"u8, new WriteOptions { TimeToLive = TimeSpan.FromTicks(1) }, out _));
        var tiny = t.Store.GetInfo("tiny");
        Assert.True(tiny is null || tiny.Expires > tiny.Modified, "a sub-millisecond time to live expired as it was written");

        var both = Assert.Throws<MemStoreException>(() =>
            t.Store.TrySet("x", "v"u8, new WriteOptions { TimeToLive = TimeSpan.FromSeconds(1), Expires = DateTime.UtcNow.AddHours(1) }, out _));
        Assert.Equal(MemStoreErrorKind.InvalidArgument, both.Kind);
        var negative = Assert.Throws<MemStoreException>(() => t.Store.TrySet("x", "v"u8, new WriteOptions { TimeToLive = TimeSpan.FromSeconds(-1) }, out _));
        Assert.Equal(MemStoreErrorKind.InvalidArgument, negative.Kind);
        var past = Assert.Throws<MemStoreException>(() => t.Store.TrySet("x", "v"u8, new WriteOptions { Expires = DateTime.UtcNow.AddSeconds(-1) }, out _));
        Assert.Equal(MemStoreErrorKind.InvalidArgument, past.Kind);
        Assert.False(t.Store.Exists("x"));
        Assert.True(t.Store.Verify().IsValid);
    }

    [Fact]
    public void Expired_space_is_reclaimed_at_compaction()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024, MaxCapacity = 64 * 1024 });
        var value = new byte[1000];

        // The store's clock, stepped by the test: under qemu (the arm64 pass) 30 writes took longer than the 50 ms the
        // first ones had to live, and a later write's expiry was already past on the wall clock.
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var clock = StoreClock.Use(() => now);
        var expires = DateTimeOffset.FromUnixTimeMilliseconds(now + 50).UtcDateTime;
        for (var i = 0; i < 30; i++)
        {
            t.Store.TrySet("e" + i, value, new WriteOptions { Expires = expires }, out _);
        }

        now += 80;
        // The heap holds ~60 KiB: without reclaiming the expired records, these writes would not fit at the maximum.
        for (var i = 0; i < 30; i++)
        {
            t.Store.Set("n" + i, value);
        }

        var stats = t.Store.GetStatistics();
        Assert.Equal(30, stats.Entries);
        Assert.True(stats.Generation > 1);
        Assert.True(t.Store.Verify().IsValid);
    }
}
