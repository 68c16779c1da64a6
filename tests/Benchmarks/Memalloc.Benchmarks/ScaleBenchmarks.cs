using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO;
using BenchmarkDotNet.Attributes;
using Memalloc.Core;

namespace Memalloc.Benchmarks;

/// <summary>
/// Reads of 100-byte stacks in a store of 100 and of 1,000,000 stacks. Names are drawn at random from the whole
/// store (a fixed sequence of 16,384 picks), so at a million stacks the index and records are mostly out of cache,
/// as they would be for a real workload; at 100 stacks everything is cache-resident. GetHot reads only 100 of the
/// store's names (the working set of the small store): it separates the index's cost from the memory hierarchy's.
/// The suite runs this class once with huge pages for shared memory off and once with them allowed
/// (/sys/kernel/mm/transparent_hugepage/shmem_enabled), and reports what the filled store actually got.
/// </summary>
public class ScaleBenchmarks
{
    private const int ValueSize = 100;
    private const int PickCount = 16384;
    private string _storeName = string.Empty;
    private MemStore? _store;
    private string[] _picks = [];
    private string[] _hotPicks = [];
    private int _next;

    /// <summary>Shared memory this process had mapped with huge pages after filling each store (kB, by Stacks),
    /// from /proc/self/smaps_rollup: 0 when the kernel gave none.</summary>
    public static ConcurrentDictionary<int, long> HugePagesMappedKb { get; } = new();

    [Params(100, 1_000_000)]
    public int Stacks { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _storeName = Sizes.NewStoreName();
        // Start big enough for a million records so the fill does not spend its time growing.
        long initial = Stacks > 1000 ? 512L << 20 : 1L << 20;
        _store = MemStore.Open(_storeName, new MemStoreOptions { InitialCapacity = initial, MaxCapacity = 4L << 30 });
        var value = Sizes.RandomValue(ValueSize, 100);
        for (var i = 0; i < Stacks; i++)
        {
            _store.Set(Name(i), value);
        }

        var random = new Random(42);
        _picks = new string[PickCount];
        for (var i = 0; i < PickCount; i++)
        {
            _picks[i] = Name(random.Next(Stacks));
        }

        var hot = new string[100];
        for (var i = 0; i < hot.Length; i++)
        {
            hot[i] = Name(random.Next(Stacks));
        }

        _hotPicks = new string[PickCount];
        for (var i = 0; i < PickCount; i++)
        {
            _hotPicks[i] = hot[random.Next(hot.Length)];
        }

        if (_store.Get(_picks[0]) is not { Length: ValueSize })
        {
            throw new InvalidOperationException("The filled store does not return the value it was given.");
        }

        HugePagesMappedKb[Stacks] = HugePagesMappedKbNow();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.Dispose();
        MemStore.DestroyStore(_storeName);
    }

    [Benchmark]
    public byte[]? Get() => _store!.Get(_picks[_next++ & (PickCount - 1)]);

    [Benchmark]
    public byte[]? GetHot() => _store!.Get(_hotPicks[_next++ & (PickCount - 1)]);

    private static string Name(int i) => "stack-" + i.ToString("D7", CultureInfo.InvariantCulture);

    /// <summary>Shared memory mapped with huge pages: transparent ones (ShmemPmdMapped) and hugetlbfs ones
    /// (SHM_HUGETLB segments: Shared_Hugetlb, Private_Hugetlb), in kB.</summary>
    private static long HugePagesMappedKbNow()
    {
        long total = 0;
        foreach (var line in File.ReadLines("/proc/self/smaps_rollup"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon] is "ShmemPmdMapped" or "Shared_Hugetlb" or "Private_Hugetlb")
            {
                total += long.Parse(line.AsSpan(colon + 1).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }

        return total;
    }
}
