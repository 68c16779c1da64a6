using System;
using System.Threading;
using System.Threading.Tasks;
using Memalloc.Core;
using Xunit;

namespace Memalloc.Core.Tests;

public class CompareAndSetTests
{
    [Fact]
    public void MustNotExist_creates_only_once()
    {
        using var t = new TestStore();
        Assert.True(t.Store.TrySet("k", "1"u8, new WriteOptions { ExpectedVersion = WriteOptions.MustNotExist }, out var v1));
        Assert.False(t.Store.TrySet("k", "2"u8, new WriteOptions { ExpectedVersion = WriteOptions.MustNotExist }, out var v2));
        Assert.Equal(0, v2);
        Assert.Equal("1"u8.ToArray(), t.Store.Get("k"));
        Assert.Equal(v1, t.Store.GetInfo("k")!.Version);
    }

    /// <summary>Issue 9, defect 3: a store removed and made again under the same name must not hand out the
    /// versions of the old one again, or a compare-and-set holding an old version succeeds against an unrelated
    /// write (ABA). Versions are seeded from the creation time, far above any the old store reached.</summary>
    [Fact]
    public void RecreatedStore_NeverReusesVersions()
    {
        var storeName = "t-" + Guid.NewGuid().ToString("N");
        long oldVersion;
        using (var first = MemStore.Open(storeName))
        {
            first.Set("c", "0"u8);
            oldVersion = first.Set("c", "1"u8);
            first.Destroy();
        }

        try
        {
            using var again = MemStore.Open(storeName);
            var newVersion = again.Set("c", "100"u8);
            Assert.True(newVersion > oldVersion, $"the re-created store handed out version {newVersion} after the old one reached {oldVersion}");
            Assert.False(again.TrySet("c", "2"u8, new WriteOptions { ExpectedVersion = oldVersion }, out _));
            Assert.Equal("100"u8.ToArray(), again.Get("c"));
            Assert.True(again.Verify().IsValid);
        }
        finally
        {
            MemStore.DestroyStore(storeName);
        }
    }

    [Fact]
    public void Version_mismatch_writes_nothing()
    {
        using var t = new TestStore();
        var v1 = t.Store.Set("k", "1"u8);
        var before = t.Store.GetStatistics().BytesUsed;
        Assert.False(t.Store.TrySet("k", "2"u8, new WriteOptions { ExpectedVersion = v1 + 1 }, out _));
        Assert.False(t.Store.TrySet("missing", "2"u8, new WriteOptions { ExpectedVersion = v1 }, out _));
        Assert.Equal("1"u8.ToArray(), t.Store.Get("k"));
        Assert.False(t.Store.Exists("missing"));
        Assert.Equal(before, t.Store.GetStatistics().BytesUsed);
        Assert.True(t.Store.TrySet("k", "3"u8, new WriteOptions { ExpectedVersion = v1 }, out var v3));
        Assert.True(v3 > v1);
        Assert.Equal("3"u8.ToArray(), t.Store.Get("k"));
    }

    [Fact]
    public void An_expired_stack_counts_as_missing()
    {
        using var t = new TestStore();
        t.Store.TrySet("k", "old"u8, new WriteOptions { Expires = DateTime.UtcNow.AddMilliseconds(50) }, out var old);
        Thread.Sleep(80);
        Assert.False(t.Store.TrySet("k", "x"u8, new WriteOptions { ExpectedVersion = old }, out _));
        Assert.True(t.Store.TrySet("k", "new"u8, new WriteOptions { ExpectedVersion = WriteOptions.MustNotExist }, out _));
        Assert.Equal("new"u8.ToArray(), t.Store.Get("k"));
    }

    [Fact]
    public void Concurrent_increments_by_compare_and_set_lose_no_update()
    {
        using var t = new TestStore();
        t.Store.Set("counter", BitConverter.GetBytes(0L));
        const int Threads = 4;
        const int PerThread = 500;
        Parallel.For(0, Threads, _ =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                while (true)
                {
                    t.Store.TryGet("counter", out var entry);
                    var next = BitConverter.ToInt64(entry!.Data) + 1;
                    if (t.Store.TrySet("counter", BitConverter.GetBytes(next), new WriteOptions { ExpectedVersion = entry.Info.Version }, out _))
                    {
                        break;
                    }
                }
            }
        });
        Assert.Equal(Threads * PerThread, BitConverter.ToInt64(t.Store.Get("counter")));
        Assert.True(t.Store.Verify().IsValid);
    }
}
