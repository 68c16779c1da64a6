using System;
using System.Diagnostics;
using Memalloc.Core;
using Xunit;
using Xunit.Abstractions;

namespace Memalloc.Core.Tests;

public class MillionTests(ITestOutputHelper output)
{
    [Fact]
    public void One_million_small_stacks_fit_in_one_store()
    {
        using var t = new TestStore();
        const int Count = 1_000_000;
        Span<byte> value = stackalloc byte[16];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Count; i++)
        {
            BitConverter.TryWriteBytes(value, i);
            t.Store.Set("stack-" + i, value);
        }

        output.WriteLine($"1M sets: {clock.ElapsedMilliseconds} ms");
        var stats = t.Store.GetStatistics();
        Assert.Equal(Count, stats.Entries);
        clock.Restart();
        for (var i = 0; i < Count; i += 997)
        {
            Assert.Equal(i, BitConverter.ToInt32(t.Store.Get("stack-" + i)));
        }

        Assert.Equal(Count, t.Store.ListNames().Count);
        clock.Restart();
        var report = t.Store.Verify();
        output.WriteLine($"verify: {clock.ElapsedMilliseconds} ms; capacity {stats.Capacity}, generation {stats.Generation}");
        Assert.True(report.IsValid, string.Join("\n", report.Problems));
        Assert.Equal(Count, report.EntriesChecked);
    }
}
