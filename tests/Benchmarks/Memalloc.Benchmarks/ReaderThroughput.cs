using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Memalloc.Core;

namespace Memalloc.Benchmarks;

/// <summary>One measurement: how many readers ran at once, their summed reads per second of wall time, their summed
/// reads per second of their own CPU time (what they would do with a core each), and the cores they got on average.</summary>
internal sealed record ReaderRound(int Readers, double OpsPerSecond, double OpsPerCpuSecond, double CoresUsed);

/// <summary>Reads per second of one and of two reader processes over the same stack, in alternating rounds.</summary>
internal sealed record ReaderResult(int ValueSize, double WindowSeconds, double OneReaderOpsPerSecond,
    double TwoReadersOpsPerSecond, double OneReaderOpsPerCpuSecond, double TwoReadersOpsPerCpuSecond,
    double OneReaderCores, double TwoReadersCores, IReadOnlyList<ReaderRound> Rounds);

/// <summary>
/// Reader scaling across processes. Two child processes (this program, verb "reader") open the store, warm up, and
/// then measure on command, so the same warm processes serve the one-reader and the two-reader rounds; rounds
/// alternate (1, 2, 2, 1, ...) so that drift in the machine's load falls on both sides alike.
/// </summary>
internal static class ReaderThroughput
{
    private const int ValueSize = 1024;

    public static ReaderResult Run(int rounds, double windowSeconds)
    {
        var storeName = Sizes.NewStoreName();
        var children = new List<Process>();
        try
        {
            using (var store = MemStore.Open(storeName))
            {
                store.Set(Sizes.StackName, Sizes.RandomValue(ValueSize, 7));
            }

            for (var i = 0; i < 2; i++)
            {
                children.Add(StartChild(storeName));
            }

            foreach (var child in children)
            {
                Expect(child, "ready");
            }

            var results = new List<ReaderRound>();
            for (var round = 0; round < rounds; round++)
            {
                int[] order = round % 2 == 0 ? [1, 2] : [2, 1];
                foreach (var readers in order)
                {
                    results.Add(Measure(children.Take(readers).ToList(), windowSeconds));
                }
            }

            double MedianOf(int readers, Func<ReaderRound, double> pick) => Median(results.Where(r => r.Readers == readers).Select(pick));
            return new ReaderResult(ValueSize, windowSeconds,
                MedianOf(1, r => r.OpsPerSecond), MedianOf(2, r => r.OpsPerSecond),
                MedianOf(1, r => r.OpsPerCpuSecond), MedianOf(2, r => r.OpsPerCpuSecond),
                MedianOf(1, r => r.CoresUsed), MedianOf(2, r => r.CoresUsed),
                results);
        }
        finally
        {
            foreach (var child in children)
            {
                try
                {
                    child.StandardInput.WriteLine("exit");
                    if (!child.WaitForExit(10_000))
                    {
                        child.Kill();
                    }
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }

                child.Dispose();
            }

            MemStore.DestroyStore(storeName);
        }
    }

    /// <summary>The child: open the store, warm up, then on each "go &lt;seconds&gt;" read for that long and print
    /// "ops wallSeconds cpuSeconds".</summary>
    public static int RunChild(string storeName)
    {
        using var store = MemStore.OpenExisting(storeName)
            ?? throw new InvalidOperationException($"Store {storeName} does not exist.");
        if (store.Get(Sizes.StackName) is not { Length: ValueSize })
        {
            throw new InvalidOperationException("The reader did not get the value the parent wrote.");
        }

        ReadFor(store, 0.5);
        Console.WriteLine("ready");
        while (Console.ReadLine() is { } line && line.StartsWith("go ", StringComparison.Ordinal))
        {
            var seconds = double.Parse(line.AsSpan(3), CultureInfo.InvariantCulture);
            var cpuStart = CpuClock.NowNs();
            var (ops, elapsed) = ReadFor(store, seconds);
            var cpu = (CpuClock.NowNs() - cpuStart) / 1e9;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ops} {elapsed:R} {cpu:R}"));
        }

        return 0;
    }

    private static (long Ops, double Seconds) ReadFor(MemStore store, double seconds)
    {
        var limit = (long)(seconds * Stopwatch.Frequency);
        var start = Stopwatch.GetTimestamp();
        long ops = 0;
        long elapsed;
        do
        {
            for (var i = 0; i < 256; i++)
            {
                _ = store.Get(Sizes.StackName);
            }

            ops += 256;
            elapsed = Stopwatch.GetTimestamp() - start;
        }
        while (elapsed < limit);
        return (ops, (double)elapsed / Stopwatch.Frequency);
    }

    private static ReaderRound Measure(List<Process> readers, double windowSeconds)
    {
        var command = string.Create(CultureInfo.InvariantCulture, $"go {windowSeconds:R}");
        foreach (var reader in readers)
        {
            reader.StandardInput.WriteLine(command);
        }

        double total = 0, perCpu = 0, cores = 0;
        foreach (var reader in readers)
        {
            var line = reader.StandardOutput.ReadLine()
                ?? throw new InvalidOperationException($"Reader {reader.Id} exited: {reader.StandardError.ReadToEnd()}");
            var parts = line.Split(' ');
            var ops = long.Parse(parts[0], CultureInfo.InvariantCulture);
            var wall = double.Parse(parts[1], CultureInfo.InvariantCulture);
            var cpu = double.Parse(parts[2], CultureInfo.InvariantCulture);
            total += ops / wall;
            perCpu += ops / cpu;
            cores += cpu / wall;
        }

        return new ReaderRound(readers.Count, total, perCpu, cores);
    }

    private static Process StartChild(string storeName)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        var self = Environment.ProcessPath ?? "dotnet";
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.FileName = self;
            info.ArgumentList.Add(typeof(ReaderThroughput).Assembly.Location);
        }
        else
        {
            info.FileName = self;
        }

        info.ArgumentList.Add("reader");
        info.ArgumentList.Add(storeName);
        return Process.Start(info) ?? throw new InvalidOperationException("Could not start a reader process.");
    }

    private static void Expect(Process child, string expected)
    {
        var line = child.StandardOutput.ReadLine();
        if (line != expected)
        {
            throw new InvalidOperationException($"Reader {child.Id} said '{line}' instead of '{expected}'.");
        }
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
