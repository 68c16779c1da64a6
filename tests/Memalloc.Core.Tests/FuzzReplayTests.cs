using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace Memalloc.Core.Tests;

/// <summary>
/// The fuzzer without AFL (docs/reliability.md, "Fuzzing"): tests/Memalloc.Fuzz replays the committed corpus, a fixed
/// number of mutants of it from a fixed seed, and every input AFL found that broke the property, each as a child
/// process (a wild read may kill it: that is a finding too, seen here as the exit status). The property: every store
/// call on the laid-out segments works or throws MemStoreException, and nothing stays attached after Dispose.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class FuzzReplayTests : ChildProcessTests
{
    /// <summary>Mutants per corpus input in the Test task: about 2,000 executions, some seconds.</summary>
    private const int Mutations = 160;


    public FuzzReplayTests(ITestOutputHelper output)
        : base(output)
    {
    }

    private static string FuzzDirectory => Path.Combine(TestHostProcess.TestsDirectory, "Memalloc.Fuzz");

    [SysVFact]
    public void The_fuzz_corpus_and_its_seeded_mutants_break_no_store_call()
    {
        var summary = Replay("--mutations", Mutations.ToString(CultureInfo.InvariantCulture), "--seed", "9", Path.Combine(FuzzDirectory, "corpus"));
        Assert.Contains("findings 0", summary, StringComparison.Ordinal);
    }

    /// <summary>The seeds are real stores, unchanged: they open and verify clean, or the fuzzer starts from broken ground.</summary>
    [SysVFact]
    public void The_fuzz_seeds_are_valid_stores()
    {
        var summary = Replay(Path.Combine(FuzzDirectory, "corpus"));
        var seeds = Directory.GetFiles(Path.Combine(FuzzDirectory, "corpus")).Length;
        Assert.Contains($"executions {seeds} findings 0", summary, StringComparison.Ordinal);
        Assert.EndsWith($"opened {seeds} verify-failures 0 refusals", summary.TrimEnd(), StringComparison.Ordinal);
    }

    /// <summary>Issue 9 §4, as AFL found it: a slot count of 2^60 or 2^62 with the heap offset its overflowing formula
    /// gives passes the arena header check, and the index lookup reads far outside the mapping.</summary>
    [SysVTheory]
    [InlineData("slot-count-2p60-negative-heap-offset.bin")]
    [InlineData("slot-count-2p62-wrapped-heap-offset.bin")]
    public void A_slot_count_overflow_found_by_the_fuzzer_is_refused_as_corrupt(string finding)
    {
        var summary = Replay(Path.Combine(FuzzDirectory, "findings", finding));
        Assert.Contains("findings 0", summary, StringComparison.Ordinal);
        Assert.Contains("Corrupt=", summary, StringComparison.Ordinal);
    }

    /// <summary>Every committed finding has its named test above.</summary>
    [Fact]
    public void Every_committed_fuzz_finding_has_a_test()
    {
        var named = typeof(FuzzReplayTests).GetMethod(nameof(A_slot_count_overflow_found_by_the_fuzzer_is_refused_as_corrupt))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>().Select(a => (string)a.GetData(null!).First()[0]);
        var files = Directory.GetFiles(Path.Combine(FuzzDirectory, "findings")).Select(Path.GetFileName);
        Assert.Equal(files.Order(StringComparer.Ordinal), named.Order(StringComparer.Ordinal));
    }

    /// <summary>Runs the fuzzer's replay in a child process and returns its SUMMARY line; a child that died or did not
    /// finish fails the test with its transcript.</summary>
    private string Replay(params string[] args)
    {
        using var replay = TestHostProcess.StartCommand("dotnet", [TestHostProcess.BuiltBeside("Memalloc.Fuzz"), "replay", .. args]);
        var finished = replay.WaitForExit(TimeSpan.FromMinutes(5));
        foreach (var line in replay.Lines.Where(l => !l.StartsWith("RUN ", StringComparison.Ordinal)))
        {
            Output.WriteLine(line);
        }

        Assert.True(finished, "the replay did not finish within 5 minutes (a hang is a finding)\n" + replay.Transcript());
        var summary = replay.Lines.LastOrDefault(l => l.StartsWith("SUMMARY", StringComparison.Ordinal));
        Assert.True(summary is not null, "the replay died before its summary (the last RUN line is the input that killed it)\n" + replay.Transcript(5));
        return summary;
    }
}
