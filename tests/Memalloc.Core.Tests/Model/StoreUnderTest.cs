using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace Memalloc.Core.Tests.Model;

/// <summary>
/// A real store as the model-based tests drive it: a fresh store with a small first arena (a few writes grow and
/// compact it), its version numbers counted from the store's own starting point (a new store may seed its sequence
/// from the clock), and a clock the test sets (<see cref="StoreClock"/>, on the calling thread only). CsCheck generates
/// far more initial states than it runs, so the store is opened at the first operation, and destroyed when its sample
/// has been judged (<see cref="Retire"/>) or, at the latest, when the test ends.
/// </summary>
internal sealed class StoreUnderTest
{
    private static readonly object s_gate = new();

    /// <summary>Open stores by group: each test class samples in its own group, so that one test retiring its stores
    /// (at the end, or before a new sample) never touches the stores of another test running beside it.</summary>
    private static readonly Dictionary<string, HashSet<StoreUnderTest>> s_open = new();

    internal static MemStoreOptions SmallArena { get; } = new() { InitialCapacity = 32 * 1024, MaxCapacity = 4L << 20 };

    private readonly string _name = "t-model-" + Guid.NewGuid().ToString("N");
    private readonly string _group;
    private readonly bool _secondInstance;
    private readonly Action<MemStore>? _preload;
    private readonly Action<StoreStatistics>? _onRetire;
    private MemStore? _store;
    private MemStore? _second;
    private string? _retiredContents;

    /// <summary><paramref name="preload"/> runs once the store is open, right after the base marker;
    /// <paramref name="onRetire"/> sees its statistics at the end (did the sample grow or compact it?).</summary>
    internal StoreUnderTest(string group, bool secondInstance = false, Action<MemStore>? preload = null, Action<StoreStatistics>? onRetire = null)
    {
        _group = group;
        _secondInstance = secondInstance;
        _preload = preload;
        _onRetire = onRetire;
    }

    /// <summary>Store clock while this store runs an operation (the model's clock at the same step).</summary>
    internal long Clock { get; set; } = new StoreModel().Clock;

    /// <summary>The version of the store's first write (a marker, removed at once): model version v is store version Base + v.</summary>
    internal long Base { get; private set; }

    /// <summary>Each operation's result, as text the model's operation must produce word for word.</summary>
    internal List<string> Results { get; } = new();

    /// <summary>Opens the store, at the first operation. With <paramref name="retireOthers"/>, every other store still
    /// open is destroyed (for samplers that run one sample at a time).</summary>
    private MemStore Materialize(bool retireOthers)
    {
        lock (s_gate)
        {
            if (_store is not null)
            {
                return _store;
            }

            if (retireOthers)
            {
                foreach (var other in Group(_group).ToList())
                {
                    other.Retire();
                }
            }

            Group(_group).Add(this);
            var store = MemStore.Open(_name, SmallArena);
            Base = store.Set("~base", []);
            store.Remove("~base");
            _preload?.Invoke(store);
            _second = _secondInstance ? MemStore.Open(_name) : null;
            return _store = store;
        }
    }

    /// <summary>Runs an operation at this store's clock (opening the store first if needed).</summary>
    internal T Run<T>(Func<MemStore, T> operation, int instance = 0, bool retireOthers = false)
    {
        var first = Volatile.Read(ref _store) ?? Materialize(retireOthers);
        var store = (instance == 1 ? _second : null) ?? first;
        var now = Clock;
        using var clock = StoreClock.Use(() => now);
        return operation(store);
    }

    /// <summary>Closes this process's instance and opens the store again: nothing may change.</summary>
    internal void Reopen()
    {
        _store!.Dispose();
        _store = MemStore.Open(_name);
    }

    /// <summary>The live names and a description of each value, read through the store.</summary>
    internal string Contents() => _retiredContents ?? Run(store => string.Join(" ", store.ListNames().Select(n => n + "=" + StoreModel.Describe(store.Get(n)))));

    /// <summary>For failure reports, which CsCheck may print after the store was destroyed.</summary>
    internal string Describe() => string.Join(" | ", Results) + " || " + (_retiredContents ?? (_store is null ? "(not opened)" : Contents()));

    internal static string Contents(StoreModel model) =>
        string.Join(" ", model.LiveNames.Select(n => n + "=" + StoreModel.Describe(model.Live(n)!.Value)));

    /// <summary>Keeps the final contents for the report and destroys the store.</summary>
    internal void Retire()
    {
        lock (s_gate)
        {
            if (_store is null || !Group(_group).Remove(this))
            {
                return;
            }

            _retiredContents = Contents();
            _onRetire?.Invoke(_store.GetStatistics());
            _second?.Dispose();
            _store.Dispose();
            MemStore.DestroyStore(_name);
        }
    }

    private static HashSet<StoreUnderTest> Group(string group)
    {
        if (!s_open.TryGetValue(group, out var stores))
        {
            s_open[group] = stores = new HashSet<StoreUnderTest>();
        }

        return stores;
    }

    /// <summary>Runs a CsCheck sampler and destroys every store of <paramref name="group"/> it left open.</summary>
    internal static void Sampling(string group, Action action)
    {
        try
        {
            action();
        }
        finally
        {
            lock (s_gate)
            {
                foreach (var store in Group(group).ToList())
                {
                    store.Retire();
                }
            }
        }
    }

    /// <summary>CsCheck's summary line ("Passed N iterations in T s") to the test output and, for a named Stress campaign
    /// with a report directory (tools/Invoke-Stress.ps1 sets MEMALLOC_FAULTS_REPORT), into campaign.json.</summary>
    internal static Action<string> Reporter(Xunit.Abstractions.ITestOutputHelper output, string? campaign) => line =>
    {
        output.WriteLine(line);
        var directory = Environment.GetEnvironmentVariable("MEMALLOC_FAULTS_REPORT");
        if (campaign is not null && !string.IsNullOrEmpty(directory))
        {
            System.IO.Directory.CreateDirectory(directory);
            System.IO.File.WriteAllText(System.IO.Path.Combine(directory, campaign + ".json"),
                System.Text.Json.JsonSerializer.Serialize(new { Campaign = campaign, Summary = line.Trim() }));
        }
    };

    /// <summary>Length of the Stress runs: <c>MEMALLOC_MODEL_SECONDS</c>, default 120.</summary>
    internal static int StressSeconds =>
        int.TryParse(Environment.GetEnvironmentVariable("MEMALLOC_MODEL_SECONDS"), out var seconds) && seconds > 0 ? seconds : 120;
}
