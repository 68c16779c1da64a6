using System;
using System.Linq;
using System.Threading;
using CsCheck;
using Memalloc.Core.Tests.Model;
using Xunit;
using Xunit.Abstractions;

namespace Memalloc.Core.Tests;

/// <summary>
/// CsCheck's model-based testing of the core: random sequences of set, get, compare-and-set, create-only, remove
/// (with and without a version), expiry (the store's clock is the model's, advanced by an operation), listing, Verify
/// and reopening, on a small store that the writes grow and compact, against <see cref="StoreModel"/>. Every
/// operation's result (versions, created/modified/expiry times included) and the final contents must match the model;
/// a failure is shrunk to the shortest sequence and printed with its seed.
/// </summary>
public sealed class ModelBasedTests
{
    private static readonly string s_longName = new string('n', 200) + "é";

    private readonly ITestOutputHelper _output;

    public ModelBasedTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [SysVFact]
    public void The_store_behaves_as_its_dictionary_model_through_writes_expiry_growth_and_compaction() =>
        Check(iter: 250, time: -1);

    [SysVFact]
    [Trait("Category", "Stress")]
    public void The_store_behaves_as_its_dictionary_model_for_a_long_run() =>
        Check(iter: -1, time: StoreUnderTest.StressSeconds);

    private void Check(long iter, int time)
    {
        var name = Gen.OneOf("a", "b", "c", "d", "e", "f", "g", s_longName);
        var value = Gen.Frequency<int>((6, Gen.Int[0, 600]), (3, Gen.Int[600, 3000]), (1, Gen.Int[9000, 20000]))
            .Select(Gen.Int, (length, seed) => (length, seed));
        var ttl = Gen.Frequency<int>((3, Gen.Const(0)), (1, Gen.Int[1, 60]));
        GenOperation<StoreUnderTest, StoreModel>[] operations =
        [
            Gen.Select(name, value, ttl).Operation<StoreUnderTest, StoreModel>(
                t => $"Set {Short(t.Item1)} {t.Item2.length}b ttl {t.Item3}",
                (a, t) => a.Results.Add(a.Run(s => s.TrySet(t.Item1, StoreModel.Bytes(t.Item2.length, t.Item2.seed), Expiring(a.Clock, t.Item3), out var v)
                    ? $"set v={v - a.Base}" : "set refused")),
                (m, t) => m.Record(m.TrySet(t.Item1, StoreModel.Bytes(t.Item2.length, t.Item2.seed), Expires(m.Clock, t.Item3), null, out var v)
                    ? $"set v={v}" : "set refused")),
            Gen.Select(name, value, Gen.Bool).Operation<StoreUnderTest, StoreModel>(
                t => $"CompareAndSet {Short(t.Item1)} {t.Item2.length}b {(t.Item3 ? "current" : "stale")}",
                (a, t) => a.Results.Add(a.Run(s => s.TrySet(t.Item1, StoreModel.Bytes(t.Item2.length, t.Item2.seed),
                    new WriteOptions { ExpectedVersion = a.Base + Expected(a.Run(x => x.GetInfo(t.Item1))?.Version - a.Base, t.Item3) }, out var v)
                    ? $"cas v={v - a.Base}" : "cas refused")),
                (m, t) => m.Record(m.TrySet(t.Item1, StoreModel.Bytes(t.Item2.length, t.Item2.seed), 0, Expected(m.Live(t.Item1)?.Version, t.Item3), out var v)
                    ? $"cas v={v}" : "cas refused")),
            Gen.Select(name, value, ttl).Operation<StoreUnderTest, StoreModel>(
                t => $"Create {Short(t.Item1)} {t.Item2.length}b ttl {t.Item3}",
                (a, t) => a.Results.Add(a.Run(s => s.TrySet(t.Item1, StoreModel.Bytes(t.Item2.length, t.Item2.seed),
                    Expiring(a.Clock, t.Item3) with { ExpectedVersion = WriteOptions.MustNotExist }, out var v) ? $"create v={v - a.Base}" : "create refused")),
                (m, t) => m.Record(m.TrySet(t.Item1, StoreModel.Bytes(t.Item2.length, t.Item2.seed), Expires(m.Clock, t.Item3), 0, out var v)
                    ? $"create v={v}" : "create refused")),
            Gen.Select(name, Gen.Int[0, 2]).Operation<StoreUnderTest, StoreModel>(
                t => $"Remove {Short(t.Item1)} {(t.Item2 == 0 ? "any" : t.Item2 == 1 ? "current" : "stale")}",
                (a, t) => a.Results.Add($"remove {a.Run(s => s.Remove(t.Item1, t.Item2 == 0 ? null : a.Base + Expected(s.GetInfo(t.Item1)?.Version - a.Base, t.Item2 == 1)))}"),
                (m, t) => m.Record($"remove {m.Remove(t.Item1, t.Item2 == 0 ? null : Expected(m.Live(t.Item1)?.Version, t.Item2 == 1))}")),
            name.Operation<StoreUnderTest, StoreModel>(
                n => $"Get {Short(n)}",
                (a, n) => a.Results.Add(a.Run(s => s.TryGet(n, out var e)
                    ? $"get {StoreModel.Describe(e!.Data)} v={e.Info.Version - a.Base} c={StoreModel.Ms(e.Info.Created)} m={StoreModel.Ms(e.Info.Modified)} e={(e.Info.Expires is { } x ? StoreModel.Ms(x) : 0)}"
                    : "get none")),
                (m, n) => m.Record(m.Live(n) is { } e ? $"get {StoreModel.Describe(e.Value)} v={e.Version} c={e.Created} m={e.Modified} e={e.Expires}" : "get none")),
            Gen.Int[1, 80].Operation<StoreUnderTest, StoreModel>(
                ms => $"Advance {ms} ms",
                (a, ms) => a.Clock += ms,
                (m, ms) => m.Clock += ms),
            Gen.Const(0).Operation<StoreUnderTest, StoreModel>(
                _ => "List",
                (a, _) => a.Results.Add("list " + string.Join(",", a.Run(s => s.List()).Select(i => i.Name + ":" + (i.Version - a.Base)))),
                (m, _) => m.Record("list " + string.Join(",", m.LiveNames.Select(n => n + ":" + m.Live(n)!.Version)))),
            Gen.Const(0).Operation<StoreUnderTest, StoreModel>(
                _ => "Verify and reopen",
                (a, _) =>
                {
                    var report = a.Run(s => s.Verify());
                    a.Reopen();
                    a.Results.Add(report.IsValid ? "verified" : "verify: " + string.Join("; ", report.Problems));
                },
                (m, _) => m.Record("verified")),
        ];
        var compacted = 0;
        var grown = 0;
        void Count(StoreStatistics statistics)
        {
            Interlocked.Add(ref compacted, statistics.Generation > 1 ? 1 : 0);
            Interlocked.Add(ref grown, statistics.Capacity > StoreUnderTest.SmallArena.InitialCapacity ? 1 : 0);
        }

        StoreUnderTest.Sampling(nameof(ModelBasedTests), () => Gen.Const(() => (new StoreUnderTest(nameof(ModelBasedTests), onRetire: Count), new StoreModel())).SampleModelBased(
            operations,
            equal: (a, m) =>
            {
                var same = a.Results.SequenceEqual(m.Transcript) && a.Contents() == StoreUnderTest.Contents(m);
                a.Retire(); // judged: its sample is over
                return same;
            },
            iter: iter, time: time,
            printActual: a => a.Describe(),
            printModel: m => string.Join(" | ", m.Transcript) + " || " + StoreUnderTest.Contents(m),
            writeLine: StoreUnderTest.Reporter(_output, time > 0 ? "model-sequential" : null)));

        // The sequences must reach what they are for: new arenas by compaction and by growth.
        _output.WriteLine($"samples that compacted: {compacted}, that grew: {grown}");
        Assert.True(compacted > 0 && grown > 0, $"no sample compacted ({compacted}) or grew ({grown}) the store");
    }

    private static string Short(string name) => name.Length > 8 ? name[..3] + "…(" + name.Length + ")" : name;

    /// <summary>The version a compare-and-set expects: the live one (when asked for and there is one), else one that no
    /// record can have.</summary>
    private static long Expected(long? live, bool current) => current && live is { } v ? v : 1_000_000;

    private static long Expires(long clock, int ttl) => ttl == 0 ? 0 : clock + ttl;

    /// <summary>An expiry as an absolute time (even <paramref name="ttl"/>) or as a time to live (odd): the same instant.</summary>
    private static WriteOptions Expiring(long clock, int ttl) => ttl == 0 ? default
        : ttl % 2 == 0 ? new() { Expires = DateTime.UnixEpoch.AddMilliseconds(clock + ttl) }
        : new() { TimeToLive = TimeSpan.FromMilliseconds(ttl) };
}
