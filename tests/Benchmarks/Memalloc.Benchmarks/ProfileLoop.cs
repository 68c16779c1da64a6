using System;
using System.Diagnostics;
using System.Globalization;
using Memalloc.Core;

namespace Memalloc.Benchmarks;

/// <summary>
/// One case in a tight loop for a fixed time, for a sampling profiler (perf record with DOTNET_PerfMapEnabled=1) when a
/// target is missed: "profile &lt;case&gt; &lt;seconds&gt;". Prints ns per operation (wall and process CPU time).
/// </summary>
internal static class ProfileLoop
{
    public static int Run(string kind, double seconds)
    {
        var storeName = Sizes.NewStoreName();
        try
        {
            var (size, stacks) = kind switch
            {
                "pair16" or "set16" or "get16" => (16, 1),
                "get1k" or "copy1k" => (1024, 1),
                "get64k" or "copy64k" => (64 * 1024, 1),
                "set64k" => (64 * 1024, 1),
                "get1m" or "set1m" or "copy1m" or "rent1m" => (1024 * 1024, 1),
                "scale100" => (100, 100),
                "scale1m" or "scale1m-hot" => (100, 1_000_000),
                _ => throw new ArgumentException($"Unknown case '{kind}'.", nameof(kind)),
            };
            using var store = MemStore.Open(storeName, new MemStoreOptions
            {
                InitialCapacity = stacks > 1000 ? 512L << 20 : 64L << 20,
                MaxCapacity = 4L << 30,
            });
            var value = Sizes.RandomValue(size, size);
            var names = new string[stacks];
            for (var i = 0; i < stacks; i++)
            {
                names[i] = "stack-" + i.ToString("D7", CultureInfo.InvariantCulture);
                store.Set(names[i], value);
            }

            var random = new Random(42);
            var picks = new string[16384];
            for (var i = 0; i < picks.Length; i++)
            {
                picks[i] = names[random.Next(kind == "scale1m-hot" ? 100 : stacks)];
            }

            var name = names[0];
            var buffer = new byte[size];
            Action op = kind switch
            {
                "pair16" => () => { store.Set(name, value); _ = store.Get(name); },
                "set16" or "set64k" or "set1m" => () => store.Set(name, value),
                "get16" or "get1k" or "get64k" or "get1m" => () => _ = store.Get(name),
                "copy1k" or "copy64k" or "copy1m" => () => _ = store.CopyValue(name, buffer),
                "rent1m" => () =>
                {
                    store.TryGetRented(name, out var entry);
                    entry!.Dispose();
                },
                _ => MakeScale(store, picks),
            };
            var limit = (long)(seconds * Stopwatch.Frequency);
            var start = Stopwatch.GetTimestamp();
            var cpuStart = CpuClock.NowNs();
            long ops = 0;
            while (Stopwatch.GetTimestamp() - start < limit)
            {
                for (var i = 0; i < 64; i++)
                {
                    op();
                }

                ops += 64;
            }

            var elapsed = (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency;
            var cpu = CpuClock.NowNs() - cpuStart;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind}: {ops} ops, {elapsed * 1e9 / ops:F1} ns/op wall, {(double)cpu / ops:F1} ns/op CPU"));
            return 0;
        }
        finally
        {
            MemStore.DestroyStore(storeName);
        }
    }

    private static Action MakeScale(MemStore store, string[] picks)
    {
        var next = 0;
        return () => _ = store.Get(picks[next++ & (picks.Length - 1)]);
    }
}
