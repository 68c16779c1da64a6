using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Memalloc.Core;
using Memalloc.Core.Native;
using Memalloc.TestHost;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>Compaction at a fixed capacity alternates between the current arena and the spare.</summary>
public class RecyclingTests
{
    /// <summary>Live (not removed) arena segments of a store: ours, with its anchor key in their header.</summary>
    internal static List<int> ArenaSegments(int anchorKey)
    {
        var result = new List<int>();
        var uid = Libc.GetUid();
        foreach (var segment in SysVTestNative.ListSegments())
        {
            if (segment.Key == 0 || segment.Uid != uid)
            {
                continue; // IPC_PRIVATE: removed, waiting for its last detach
            }

            byte[] header;
            try
            {
                header = SysVTestNative.ReadSegment(segment.Id, Math.Min(segment.Size, Layout.ArenaHeaderSize));
            }
            catch (IOException)
            {
                continue; // removed since the listing
            }

            if (header.Length >= Layout.ArenaHeaderSize && BitConverter.ToUInt64(header, 0) == Layout.ArenaMagic
                && BitConverter.ToInt32(header, Layout.ArenaAnchorKeyOffset) == anchorKey)
            {
                result.Add(segment.Id);
            }
        }

        return result;
    }

    [Fact]
    public void Compactions_alternate_between_two_segments()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024, MaxCapacity = 64 * 1024 });
        var seen = new HashSet<int>();
        long lastGeneration = 1;
        for (var i = 0; i < 5000; i++)
        {
            t.Store.Set("k" + (i % 10), new byte[200]);
            var stats = t.Store.GetStatistics();
            seen.Add(stats.SegmentIds[1]);
            lastGeneration = stats.Generation;
        }

        Assert.True(lastGeneration > 5);
        Assert.Equal(2, seen.Count);
        Assert.Contains(t.Store.SpareShmId, seen);
        Assert.NotEqual(t.Store.GetStatistics().SegmentIds[1], t.Store.SpareShmId);
        Assert.Equal(t.Store.SpareShmId, t.Store.GetStatistics().SegmentIds[2]); // listed, so removing by hand misses nothing
        Assert.True(ArenaSegments(t.Store.AnchorKey).Count <= 2);
        Assert.True(t.Store.Verify().IsValid);
        t.Store.Destroy();
        Assert.Empty(ArenaSegments(t.Store.AnchorKey));
    }

    [Theory]
    [InlineData("grow.after-recycle-mark")]
    [InlineData("grow.after-copy")]
    [InlineData("grow.after-publish")]
    [InlineData("grow.after-rmid-old")]
    public void A_compaction_abandoned_at_any_step_loses_nothing_and_leaks_nothing(string point)
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024, MaxCapacity = 64 * 1024 });
        // Two compactions first, so that a spare exists.
        for (var i = 0; i < 3000; i++)
        {
            t.Store.Set("k" + (i % 10), BitConverter.GetBytes(i));
        }

        Assert.True(t.Store.GetStatistics().Generation >= 3);
        RecoveryTests.WithCrashAt(point, () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                t.Store.Set("k" + (i % 10), BitConverter.GetBytes(1000 + i));
            }
        });
        t.Store.Set("after", "a"u8);
        for (var i = 0; i < 10; i++)
        {
            Assert.NotNull(t.Store.Get("k" + i));
        }

        var report = t.Store.Verify();
        Assert.True(report.IsValid, string.Join("\n", report.Problems));
        Assert.True(ArenaSegments(t.Store.AnchorKey).Count <= 2, "no orphaned arena");
        for (var i = 0; i < 3000; i++)
        {
            t.Store.Set("k" + (i % 10), BitConverter.GetBytes(i));
        }

        Assert.Equal(BitConverter.GetBytes(2999), t.Store.Get("k9"));
        Assert.True(ArenaSegments(t.Store.AnchorKey).Count <= 2);
    }

    /// <summary>Issue 9, defect 5: an operator removes the spare arena with `ipcrm -m` (store-design.md tells them
    /// they may). The next compaction must not recycle the removed segment as the current arena: that made every
    /// process see the store as removed and lost its data. Each write is confirmed with the kernel, as the cmdlets do.</summary>
    [Fact]
    public void RemovedSpare_IsNotRecycled_AndTheDataSurvives()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024, MaxCapacity = 64 * 1024 });
        var expected = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        void Write(int i)
        {
            var name = "k" + (i % 10).ToString(CultureInfo.InvariantCulture);
            var value = new byte[200];
            BitConverter.GetBytes(i).CopyTo(value, 0);
            t.Store.Set(name, value);
            t.Store.EnsureNotRemoved();
            expected[name] = value;
        }

        for (var i = 0; t.Store.SpareShmId < 0; i++)
        {
            Assert.True(i < 10_000, "no spare arena after 10000 writes");
            Write(i);
        }

        var spare = t.Store.SpareShmId;
        Assert.Equal(0, Memalloc.TestHost.SysVTestNative.Remove(spare)); // ipcrm -m <spare>
        var generation = t.Store.GetStatistics().Generation;
        for (var i = 0; i < 600; i++)
        {
            Write(20_000 + i);
        }

        var statistics = t.Store.GetStatistics();
        Assert.True(statistics.Generation > generation + 1, $"no compaction happened (generation {generation} -> {statistics.Generation})");
        Assert.NotEqual(spare, statistics.SegmentIds[1]);
        foreach (var (name, value) in expected)
        {
            Assert.Equal(value, t.Store.Get(name));
        }

        var report = t.Store.Verify();
        Assert.True(report.IsValid, string.Join("\n", report.Problems));
    }

    [Fact]
    public async Task Readers_of_another_instance_retry_across_recycling_and_never_see_a_wrong_value()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024, MaxCapacity = 64 * 1024 });
        using var reader = MemStore.OpenExisting(t.StoreName)!;
        for (var k = 0; k < 20; k++)
        {
            t.Store.Set("k" + k, Value(k, 0));
        }

        var stop = 0;
        var wrong = 0;
        var reads = 0L;
        var readers = new Task[2];
        for (var r = 0; r < readers.Length; r++)
        {
            readers[r] = Task.Run(() =>
            {
                while (Volatile.Read(ref stop) == 0)
                {
                    for (var k = 0; k < 20; k++)
                    {
                        var value = reader.Get("k" + k);
                        Interlocked.Increment(ref reads);
                        if (value is null || value.Length != 300 || value[0] != k || Array.Exists(value, b => b != value[0]))
                        {
                            Interlocked.Increment(ref wrong);
                        }
                    }
                }
            });
        }

        while (Interlocked.Read(ref reads) == 0)
        {
            Thread.Sleep(1);
        }

        for (var i = 0; i < 100_000; i++)
        {
            t.Store.Set("k" + (i % 20), Value(i % 20, i));
        }

        Volatile.Write(ref stop, 1);
        await Task.WhenAll(readers);
        Assert.Equal(0, wrong);
        Assert.True(reads > 0);
        Assert.True(t.Store.GetStatistics().Generation > 20, "generation " + t.Store.GetStatistics().Generation + " reads " + reads);
    }

    private static byte[] Value(int key, int round)
    {
        _ = round;
        var value = new byte[300];
        Array.Fill(value, (byte)key);
        return value;
    }
}
