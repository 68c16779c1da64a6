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

    [Fact]
    public void Expired_space_is_reclaimed_at_compaction()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024, MaxCapacity = 64 * 1024 });
        var value = new byte[1000];
        for (var i = 0; i < 30; i++)
        {
            t.Store.TrySet("e" + i, value, new WriteOptions { Expires = DateTime.UtcNow.AddMilliseconds(50) }, out _);
        }

        Thread.Sleep(80);
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
