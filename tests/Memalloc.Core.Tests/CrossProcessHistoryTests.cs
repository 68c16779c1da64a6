using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Memalloc.Core.Tests.Model;
using Xunit;
using Xunit.Abstractions;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// Linearizability across processes: several test hosts run random sets, compare-and-sets, creates, removals and reads
/// on one small store (which they grow and compact), each operation logged with its start and end on the monotonic
/// clock they share; <see cref="HistoryChecker"/> then finds, key by key, an order of the operations consistent with
/// real time that explains every result, and checks that versions come from one store-wide sequence.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class CrossProcessHistoryTests : ChildProcessTests
{
    public CrossProcessHistoryTests(ITestOutputHelper output)
        : base(output)
    {
    }

    [SysVFact]
    public void Operations_of_several_processes_on_one_store_are_linearizable() => Campaign(rounds: 1, processes: 3, operations: 120);

    [SysVFact]
    [Trait("Category", "Stress")]
    public void Operations_of_several_processes_on_one_store_are_linearizable_over_many_rounds()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("MEMALLOC_HISTORY_ROUNDS"), out var r) && r > 0 ? r : 25;
        Campaign(rounds, processes: 4, operations: 150);
    }

    private void Campaign(int rounds, int processes, int operations)
    {
        var checkedOps = 0;
        var concurrent = 0;
        var problems = new List<string>();
        for (var round = 0; round < rounds && problems.Count == 0; round++)
        {
            var history = RunRound(round, processes, operations);
            checkedOps += history.Count;
            // Operations that overlapped one of another process: what makes the check more than a sequential replay.
            concurrent += history.Count(a => history.Any(b => b.Process != a.Process && b.Start < a.End && a.Start < b.End));
            problems.AddRange(HistoryChecker.Check(history));
        }

        Output.WriteLine($"{rounds} round(s), {checkedOps} operations checked ({concurrent} overlapping another process's), {problems.Count} problem(s)");
        WriteFigures(rounds, processes, checkedOps, concurrent, problems.Count);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private List<HistoryOp> RunRound(int round, int processes, int operations)
    {
        var storeName = NewStoreName();
        // About 60 operations per key: well under the checker's 128.
        var keys = Math.Max(2, processes * operations / 60);
        var startAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 3000;
        var hosts = Enumerable.Range(0, processes).Select(p => TestHostProcess.Start("history", storeName, "--id", Text(p), "--seed", Text((round * 100) + p),
            "--ops", Text(operations), "--keys", Text(keys), "--at", Text(startAt))).ToList();
        try
        {
            foreach (var host in hosts)
            {
                Assert.True(host.WaitForExit(TimeSpan.FromMinutes(3)), "a history process did not finish\n" + host.Transcript());
                Assert.True(host.Lines.Contains("DONE"), "a history process failed\n" + host.Transcript());
            }

            using (var store = MemStore.Open(storeName))
            {
                var report = store.Verify();
                Assert.True(report.IsValid, string.Join("\n", report.Problems));
            }

            return hosts.SelectMany(h => h.Lines.Where(l => l.StartsWith("OP ", StringComparison.Ordinal))).Select(HistoryOp.Parse).ToList();
        }
        finally
        {
            foreach (var host in hosts)
            {
                host.Dispose();
            }

            MemStore.DestroyStore(storeName);
        }
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Figures for the Stress report (tools/Invoke-Stress.ps1 sets MEMALLOC_FAULTS_REPORT).</summary>
    private static void WriteFigures(int rounds, int processes, int operations, int concurrent, int problems)
    {
        var directory = Environment.GetEnvironmentVariable("MEMALLOC_FAULTS_REPORT");
        if (string.IsNullOrEmpty(directory) || rounds == 1)
        {
            return;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "history.json"), JsonSerializer.Serialize(new
        {
            Campaign = "history", Rounds = rounds, Processes = processes, OperationsChecked = operations, Overlapping = concurrent, Problems = problems,
        }));
    }
}
