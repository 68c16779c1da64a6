using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Memalloc.Core;
using Perfolizer.Horology;

namespace Memalloc.Benchmarks;

/// <summary>One benchmark case's result, as tests/Benchmarks/BenchSuite.psm1 (Invoke-BenchDotNet) reads it.</summary>
internal sealed record CaseResult(string Group, string Method, string Parameter, long Value, string Clock,
    double? MedianNs, double? MeanNs, double? StdDevNs, long? AllocatedBytes, string? Error);

/// <summary>Facts holds what a benchmark observed besides its time (huge pages mapped by the scale stores).</summary>
internal sealed record RunResult(string Clock, bool CoreAvailable, string? CoreError, IReadOnlyList<CaseResult> Benchmarks,
    ReaderResult? Readers, IReadOnlyDictionary<string, long> Facts, IReadOnlyList<string> Errors);

/// <summary>
/// Usage:
///   Memalloc.Benchmarks run --out results.json [--redis 127.0.0.1:port] [--groups core,scale,baseline,redis,readers,coordination]
///   Memalloc.Benchmarks wake-latency &lt;store&gt; &lt;rounds&gt;, wake-pong &lt;store&gt;, lock-worker &lt;store&gt; &lt;mode&gt; &lt;seconds&gt;
///   (the cross-process coordination measurements; see CoordinationProcesses)
///                           [--iterations n] [--warmups n] [--reader-rounds n] [--clock cpu|wall]
///   Memalloc.Benchmarks reader &lt;store&gt;   (a reader process, started by the readers group)
///   Memalloc.Benchmarks profile &lt;case&gt; &lt;seconds&gt;   (one case in a loop, for perf; see ProfileLoop)
/// </summary>
internal static class Program
{
    private static readonly JsonSerializerOptions s_jsonOptions = new() { WriteIndented = true };

    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "reader")
        {
            return ReaderThroughput.RunChild(args[1]);
        }

        switch (args)
        {
            case ["wake-latency", var store, var rounds]:
                return CoordinationProcesses.WakeLatency(store, int.Parse(rounds, CultureInfo.InvariantCulture));
            case ["wake-pong", var store]:
                return CoordinationProcesses.WakePong(store);
            case ["lock-waiter-cpu", var store, var seconds]:
                return CoordinationProcesses.LockWaiterCpu(store, double.Parse(seconds, CultureInfo.InvariantCulture));
            case ["lock-waiter", var store, var seconds]:
                return CoordinationProcesses.LockWaiter(store, double.Parse(seconds, CultureInfo.InvariantCulture));
            case ["lock-worker", var store, var mode, var seconds]:
                return CoordinationProcesses.LockWorker(store, mode, double.Parse(seconds, CultureInfo.InvariantCulture));
        }

        if (args.Length == 3 && args[0] == "profile")
        {
            return ProfileLoop.Run(args[1], double.Parse(args[2], CultureInfo.InvariantCulture));
        }

        var options = ParseOptions(args);
        if (!options.TryGetValue("out", out var outPath))
        {
            Console.Error.WriteLine("usage: Memalloc.Benchmarks run --out <results.json> [--redis host:port] [--groups a,b] [--iterations n] [--warmups n] [--reader-rounds n]");
            return 2;
        }

        var groups = options.TryGetValue("groups", out var g)
            ? g.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase)
            : new HashSet<string>(["core", "scale", "baseline", "redis", "readers"], StringComparer.OrdinalIgnoreCase);
        var iterations = options.TryGetValue("iterations", out var it) ? int.Parse(it, CultureInfo.InvariantCulture) : 7;
        var warmups = options.TryGetValue("warmups", out var w) ? int.Parse(w, CultureInfo.InvariantCulture) : 2;
        var readerRounds = options.TryGetValue("reader-rounds", out var rr) ? int.Parse(rr, CultureInfo.InvariantCulture) : 7;
        var clock = options.TryGetValue("clock", out var c) ? c.ToLowerInvariant() : "cpu";
        if (clock is not ("cpu" or "wall"))
        {
            Console.Error.WriteLine("--clock takes cpu or wall.");
            return 2;
        }

        var errors = new List<string>();

        var coreError = ProbeCore();
        if (coreError is not null)
        {
            Console.Error.WriteLine($"The core is not usable yet, its benchmarks are skipped: {coreError}");
        }

        var types = new List<Type>();
        var wallTypes = new List<Type>();
        if (groups.Contains("baseline")) types.Add(typeof(BaselineBenchmarks));
        if (coreError is null && groups.Contains("core")) types.Add(typeof(CoreBenchmarks));
        if (coreError is null && groups.Contains("scale")) types.Add(typeof(ScaleBenchmarks));
        if (coreError is null && groups.Contains("coordination")) wallTypes.Add(typeof(CoordinationBenchmarks)); // system calls, another thread's wake
        if (coreError is null && groups.Contains("coordination")) types.Add(typeof(QueueDepthBenchmarks)); // no system call: CPU time
        if (groups.Contains("coordination") && options.TryGetValue("redis", out var queueEndpoint))
        {
            Environment.SetEnvironmentVariable(RedisBenchmarks.EndpointVariable, queueEndpoint);
            wallTypes.Add(typeof(RedisQueueBenchmarks));
        }

        if (groups.Contains("redis"))
        {
            if (options.TryGetValue("redis", out var endpoint))
            {
                Environment.SetEnvironmentVariable(RedisBenchmarks.EndpointVariable, endpoint);
                wallTypes.Add(typeof(RedisBenchmarks)); // a round trip to another process: only the wall clock sees it
            }
            else
            {
                errors.Add("redis: no --redis endpoint given; skipped.");
            }
        }

        var cases = new List<CaseResult>();
        var artifacts = Path.GetDirectoryName(Path.GetFullPath(outPath))!;
        foreach (var (run, cpu) in new[] { (types, clock == "cpu"), (wallTypes, false) })
        {
            if (run.Count == 0)
            {
                continue;
            }

            var summaries = BenchmarkRunner.Run([.. run], CreateConfig(iterations, warmups, artifacts, cpu));
            var reports = summaries.SelectMany(s => s.Reports).ToList();
            errors.AddRange(summaries.SelectMany(s => s.ValidationErrors).Select(e => "validation: " + e.Message));

            // A case that threw (see the log) is run once more on its own, so one failure does not leave a hole in the
            // report; the failure itself is kept in the errors and the report says the case was retried.
            var failed = reports.Where(r => r.ResultStatistics is null).Select(r => r.BenchmarkCase.DisplayInfo).ToHashSet(StringComparer.Ordinal);
            if (failed.Count > 0)
            {
                errors.AddRange(failed.Select(f => $"failed, then retried once: {f}"));
                var retryConfig = CreateConfig(iterations, warmups, artifacts, cpu).AddFilter(new SimpleFilter(b => failed.Contains(b.DisplayInfo)));
                var retried = BenchmarkRunner.Run([.. run], retryConfig).SelectMany(s => s.Reports)
                    .Where(r => r.ResultStatistics is not null).ToDictionary(r => r.BenchmarkCase.DisplayInfo, StringComparer.Ordinal);
                reports = reports.Select(r => r.ResultStatistics is null && retried.TryGetValue(r.BenchmarkCase.DisplayInfo, out var again) ? again : r).ToList();
            }

            cases.AddRange(reports.Select(r => ToResult(r, cpu ? "cpu" : "wall")));
        }

        ReaderResult? readers = null;
        if (coreError is null && groups.Contains("readers"))
        {
            try
            {
                readers = ReaderThroughput.Run(readerRounds, windowSeconds: 1.0);
            }
            catch (Exception e) when (e is InvalidOperationException or MemStoreException or IOException)
            {
                errors.Add("readers: " + e.Message);
            }
        }

        var facts = ScaleBenchmarks.HugePagesMappedKb.ToDictionary(p => string.Create(CultureInfo.InvariantCulture, $"HugePagesMappedKb.{p.Key}"), p => p.Value);
        var result = new RunResult(clock, coreError is null, coreError, cases, readers, facts, errors);
        File.WriteAllText(outPath, JsonSerializer.Serialize(result, s_jsonOptions));
        Console.WriteLine($"Results: {outPath}");
        return 0;
    }

    /// <summary>Null when the core opens, writes, reads and destroys a store; otherwise why not.</summary>
    private static string? ProbeCore()
    {
        var name = Sizes.NewStoreName();
        try
        {
            using (var store = MemStore.Open(name))
            {
                store.Set(Sizes.StackName, [1, 2, 3]);
                if (store.Get(Sizes.StackName) is not { Length: 3 })
                {
                    return "Get did not return what Set wrote.";
                }
            }

            MemStore.DestroyStore(name);
            return null;
        }
        catch (Exception e) when (e is NotImplementedException or MemStoreException or DllNotFoundException or EntryPointNotFoundException)
        {
            try
            {
                MemStore.DestroyStore(name);
            }
            catch (Exception cleanup) when (cleanup is NotImplementedException or MemStoreException)
            {
                // Nothing to clean up, or the core cannot.
            }

            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    /// <summary>
    /// In-process (no generated project to build per benchmark: the whole task must fit in ten minutes on two cores),
    /// a few warm-up and measured iterations of about 100 ms each; medians are what the report uses.
    /// </summary>
    private static ManualConfig CreateConfig(int iterations, int warmups, string artifacts, bool cpuClock)
    {
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(warmups)
            .WithIterationCount(iterations)
            .WithIterationTime(TimeInterval.FromMilliseconds(100))
            .WithId(cpuClock ? "BenchCpu" : "BenchWall");
        if (cpuClock)
        {
            job = job.WithClock(CpuClock.Instance);
        }

        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddColumn(StatisticColumn.Median)
            .AddLogger(ConsoleLogger.Default)
            .AddExporter(MarkdownExporter.GitHub)
            .WithArtifactsPath(Path.Combine(artifacts, "BenchmarkDotNet.Artifacts"));
        config.Options |= ConfigOptions.JoinSummary;
        return config;
    }

    private static CaseResult ToResult(BenchmarkReport report, string clock)
    {
        var benchmark = report.BenchmarkCase;
        var group = benchmark.Descriptor.Type.Name.Replace("Benchmarks", string.Empty, StringComparison.Ordinal);
        var parameter = benchmark.Parameters.Items.FirstOrDefault();
        var value = parameter is null ? 0 : Convert.ToInt64(parameter.Value, CultureInfo.InvariantCulture);
        var stats = report.ResultStatistics;
        long? allocated = report.GcStats.GetBytesAllocatedPerOperation(benchmark);
        return new CaseResult(group, benchmark.Descriptor.WorkloadMethod.Name, parameter?.Name ?? string.Empty, value, clock,
            stats?.Median, stats?.Mean, stats?.StandardDeviation, allocated,
            stats is null ? "no result (the benchmark failed; see the console log)" : null);
    }

    private static Dictionary<string, string> ParseOptions(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
            {
                options[args[i][2..]] = args[++i];
            }
        }

        return options;
    }
}
