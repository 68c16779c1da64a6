using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using Memalloc.TestHost;
using Xunit;
using Xunit.Abstractions;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// Writers (and readers) killed with SIGKILL, at random moments and at each named CrashPoints step. After every
/// kill: every acknowledged write is readable (or the one write in flight, committed but not acknowledged),
/// the next write is not stuck behind a lock timeout, Verify passes, and, once the store is destroyed, no
/// segment created by a killed process is left behind.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class CrashTests : ChildProcessTests
{
    /// <summary>Random kills in the default run (the deterministic crash-point cases add 20 more).</summary>
    private const int DefaultRunKills = 20;

    private static readonly string[] s_points =
    [
        "write.after-sequence", "write.after-record", "write.after-bump", "write.after-publish", "write.after-counters",
        "remove.after-tombstone", "remove.after-counters", "grow.after-shmget", "grow.after-recycle-mark", "grow.after-copy", "grow.after-publish", "grow.after-rmid-old",
    ];


    public CrashTests(ITestOutputHelper output)
        : base(output)
    {
    }

    public static TheoryData<string, int> CrashPointCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var point in s_points)
        {
            data.Add(point, 1);
            data.Add(point, 3);
        }

        return data;
    }

    public static TheoryData<string, int> StressCrashPointCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var point in s_points)
        {
            // With recycling, a store that keeps its size calls shmget only a few times: later hits never come.
            foreach (var hit in point == "grow.after-shmget" ? new[] { 2 } : new[] { 2, 5, 8, 13 })
            {
                data.Add(point, hit);
            }
        }

        return data;
    }

    [SysVFact]
    public void Writer_killed_at_random_points_loses_no_acknowledged_write() =>
        RandomKillCampaign(DefaultRunKills, seed: 20261125, withReader: true);

    [SysVFact]
    [Trait("Category", "Stress")]
    public void Writer_killed_at_random_points_many_times_loses_no_acknowledged_write()
    {
        var kills = int.TryParse(Environment.GetEnvironmentVariable("MEMALLOC_STRESS_KILLS"), NumberStyles.Integer, Inv, out var k) && k > 0 ? k : 200;
        RandomKillCampaign(kills, seed: Environment.TickCount, withReader: true);
    }

    [SysVTheory]
    [MemberData(nameof(CrashPointCases))]
    public void Writer_killed_at_crash_point_leaves_a_consistent_store(string point, int hit) => CrashAt(point, hit);

    [SysVTheory]
    [MemberData(nameof(StressCrashPointCases))]
    [Trait("Category", "Stress")]
    public void Writer_killed_at_later_hits_of_crash_point_leaves_a_consistent_store(string point, int hit) => CrashAt(point, hit);

    [SysVFact]
    public void Killed_readers_do_not_block_writers_or_other_readers()
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        var ledger = new AckLedger("n", 16);
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            using var writer = TestHostProcess.Start("writer", storeName, "--id", "1", "--seed", "5", "--big-every", "8", "--big-size", "30000");
            Assert.StartsWith("READY", writer.WaitForReady(), StringComparison.Ordinal);
            using var steadyReader = TestHostProcess.Start("reader", storeName, "--seconds", "600");
            Assert.StartsWith("READY", steadyReader.WaitForReady(), StringComparison.Ordinal);
            var random = new Random(11);
            for (var i = 0; i < 6; i++)
            {
                using var reader = TestHostProcess.Start("reader", storeName, "--seconds", "600");
                Assert.StartsWith("READY", reader.WaitForReady(), StringComparison.Ordinal);
                reader.WaitForLine(l => l.StartsWith("PROGRESS", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
                Thread.Sleep(random.Next(0, 100));
                reader.KillHard();
                AssertNoViolations(reader);

                // The writer keeps committing after the reader died mid-read.
                var acks = writer.CountLines("ACK");
                writer.WaitForLine(l => l.StartsWith("ACK", StringComparison.Ordinal), TimeSpan.FromSeconds(10), startIndex: writer.Lines.Count);
                Assert.True(writer.CountLines("ACK") > acks, writer.Transcript());
            }

            writer.KillHard();
            steadyReader.KillHard();
            AssertNoViolations(steadyReader);
            Assert.Contains(steadyReader.Lines, l => l.StartsWith("PROGRESS", StringComparison.Ordinal));
            var failures = ledger.CheckAndAdopt(store, ledger.Apply(writer.Lines));
            Assert.True(failures.Count == 0, string.Join("\n", failures));
            AssertNextWriteIsPrompt(store);
            AssertValid(store);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>A writer already waiting for the lock when its owner is killed (holding it, mid-write) takes it over
    /// and carries on: its next acknowledgement comes within the generous bound, not after a lock timeout.</summary>
    [SysVFact]
    public void Waiting_writer_takes_over_the_lock_when_its_owner_is_killed_mid_write()
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        var survivorLedger = new AckLedger("a", 8);
        var victimLedger = new AckLedger("b", 8);
        var pids = new List<int>();
        var started = DateTimeOffset.UtcNow;
        var random = new Random(42);
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            using var survivor = TestHostProcess.Start("writer", storeName, "--id", "1", "--prefix", "a", "--names", "8", "--seed", "1",
                "--big-every", "7", "--big-size", "30000");
            Assert.StartsWith("READY", survivor.WaitForReady(), StringComparison.Ordinal);
            pids.Add(survivor.Id);
            for (var round = 0; round < 8; round++)
            {
                var point = round % 2 == 0 ? "write.after-record" : "write.after-publish";
                var hit = random.Next(1, 60);
                using var victim = TestHostProcess.Run(TimeSpan.FromSeconds(60),
                    ["writer", storeName, "--id", (round + 2).ToString(Inv), "--prefix", "b", "--names", "8", "--seed", round.ToString(Inv),
                     "--crash-at", point, "--crash-hit", hit.ToString(Inv)]);
                pids.Add(victim.Id);
                Assert.True(victim.Lines.Contains($"CRASH {point} {hit}"), victim.Transcript());

                var seen = survivor.Lines.Count;
                survivor.WaitForLine(l => l.StartsWith("ACK", StringComparison.Ordinal), NextWriteBound, startIndex: seen);
                Assert.False(survivor.HasExited, survivor.Transcript());

                var failures = victimLedger.CheckAndAdopt(store, victimLedger.Apply(victim.Lines));
                Assert.True(failures.Count == 0, $"round {round}: {string.Join("\n", failures)}\n{victim.Transcript()}");
            }

            survivor.KillHard();
            Assert.DoesNotContain(survivor.Lines, l => l.StartsWith("ERROR", StringComparison.Ordinal));
            var survivorFailures = survivorLedger.CheckAndAdopt(store, survivorLedger.Apply(survivor.Lines));
            Assert.True(survivorFailures.Count == 0, string.Join("\n", survivorFailures));
            AssertNextWriteIsPrompt(store);
            AssertValid(store);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }

        var leaked = SegmentsCreatedBy(pids, started);
        Assert.True(leaked.Count == 0, "segments left behind: " + Describe(leaked));
    }

    /// <summary>
    /// Dead-owner detection must be exact both ways: a lock word naming a live process (right start time) is
    /// waited for, never taken over; the same pid with another start time (the pid was reused after the owner
    /// died) is taken over promptly; and once the live owner is killed, the waiter proceeds promptly.
    /// </summary>
    [SysVFact]
    public void Lock_word_of_a_live_owner_is_respected_and_of_a_reused_pid_is_taken_over()
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName);
            store.Set("n0", Payload.Create("n0", 1, 1, 64));
            var anchorId = store.GetStatistics().SegmentIds[0];
            using var owner = TestHostProcess.Start("reader", storeName, "--seconds", "600");
            Assert.StartsWith("READY", owner.WaitForReady(), StringComparison.Ordinal);
            var token = StartTimeToken(owner.Id);

            // The owner's pid with a start time it never had: a reused pid, so the real owner is dead.
            WriteLockWord(anchorId, ((ulong)(token ^ 0x1234u) << 32) | (uint)owner.Id);
            var stopwatch = Stopwatch.StartNew();
            Within(30, "a write behind a lock word of a reused pid", () => store.Set("n1", Payload.Create("n1", 1, 2, 64)));
            Assert.True(stopwatch.Elapsed < NextWriteBound, $"a reused pid's lock word held the write for {stopwatch.Elapsed.TotalSeconds:0.0} s");

            // The live owner's exact word: the write must wait for it...
            WriteLockWord(anchorId, ((ulong)token << 32) | (uint)owner.Id);
            var write = System.Threading.Tasks.Task.Run(() => store.Set("n2", Payload.Create("n2", 1, 3, 64)));
            Assert.False(write.Wait(TimeSpan.FromSeconds(1)), "the write took the lock from a live owner");

            // ...and go on promptly once that owner is killed.
            owner.KillHard();
            stopwatch.Restart();
            Assert.True(write.Wait(TimeSpan.FromSeconds(30)), "the write never went on after the owner was killed");
            Assert.True(stopwatch.Elapsed < NextWriteBound, $"the write waited {stopwatch.Elapsed.TotalSeconds:0.0} s after the owner died");
            Assert.NotNull(store.Get("n2"));
            AssertValid(store);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    private static void WriteLockWord(int anchorId, ulong word)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, word);
        SysVTestNative.WriteSegment(anchorId, Layout.LockWordOffset, bytes);
    }

    /// <summary>The token the store derives from /proc/pid/stat field 22 (start time), computed independently.</summary>
    private static uint StartTimeToken(int pid)
    {
        var stat = System.IO.File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (uint)ulong.Parse(fields[22 - 3], Inv) | 0x8000_0000u;
    }

    /// <summary>
    /// A writer killed while holding the lock stays a zombie until its parent reaps it: kill(pid, 0) still succeeds
    /// and /proc/pid/stat still shows the same start time. A parent that does not reap at once (a shell that exec'd
    /// into something else, a busy or stopped parent) must not stall every writer of the store.
    /// </summary>
    [SysVFact]
    public void Writer_killed_holding_the_lock_but_not_yet_reaped_does_not_block_the_next_writer()
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName);
            var ledger = new AckLedger("n", 16);

            // sh starts the writer in the background and turns into `sleep`, which never reaps it.
            var script = $"dotnet \"{TestHostProcess.HostDll}\" writer {storeName} --id 1 --count 1000 --crash-at write.after-record --crash-hit 20 & exec sleep 40";
            using var parent = TestHostProcess.StartCommand("sh", ["-c", script]);
            var ready = parent.WaitForLine(l => l.StartsWith("READY", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            var writerPid = int.Parse(Fields(ready)[1], Inv);
            parent.WaitForLine(l => l.StartsWith("CRASH", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            var stopwatch = Stopwatch.StartNew();
            while (ProcessState(writerPid) != 'Z' && stopwatch.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(10);
            }

            Assert.True(ProcessState(writerPid) == 'Z', $"the killed writer {writerPid} is not a zombie (state {ProcessState(writerPid)}): the test did not set up what it tests");
            var failures = ledger.CheckAndAdopt(store, ledger.Apply(parent.Lines));
            Assert.True(failures.Count == 0, string.Join("\n", failures));

            stopwatch.Restart();
            var value = Payload.Create("probe", 0, 1, 64);
            Within(15, "the first write after a writer died holding the lock (unreaped)", () => store.Set("probe", value));
            Assert.True(stopwatch.Elapsed < NextWriteBound,
                $"the first write waited {stopwatch.Elapsed.TotalSeconds:0.0} s for a dead (zombie) lock owner");
            AssertValid(store);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>Field 3 of /proc/pid/stat (R, S, Z...), or '-' when the process is gone.</summary>
    private static char ProcessState(int pid)
    {
        try
        {
            var stat = System.IO.File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0];
        }
        catch (System.IO.IOException)
        {
            return '-';
        }
    }

    private void RandomKillCampaign(int kills, int seed, bool withReader)
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        TestHostProcess? reader = null;
        var ledger = new AckLedger("n", 16);
        var pids = new List<int>();
        var started = DateTimeOffset.UtcNow;
        var random = new Random(seed);
        long generation;
        var seen = new HashSet<int>();
        Output.WriteLine($"store {storeName}, {kills} kills, seed {seed}");
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            var startGeneration = store.GetStatistics().Generation;
            if (withReader)
            {
                reader = TestHostProcess.Start("reader", storeName, "--seconds", "3600");
                Assert.StartsWith("READY", reader.WaitForReady(), StringComparison.Ordinal);
            }

            for (var kill = 0; kill < kills; kill++)
            {
                using var writer = TestHostProcess.Start(
                    "writer", storeName, "--id", (kill + 1).ToString(Inv), "--seed", random.Next().ToString(Inv),
                    "--big-every", "6", "--big-size", random.Next(2) == 0 ? "20000" : "60000", "--remove-every", "9");
                var ready = writer.WaitForReady();
                Assert.True(ready.StartsWith("READY", StringComparison.Ordinal), writer.Transcript());
                pids.Add(writer.Id);

                // Kill right away, after a number of acknowledged writes, or after a while.
                switch (random.Next(3))
                {
                    case 0:
                        Thread.Sleep(random.Next(0, 20));
                        break;
                    case 1:
                        var target = random.Next(1, 300);
                        var stopwatch = Stopwatch.StartNew();
                        while (writer.CountLines("ACK") < target && stopwatch.Elapsed < TimeSpan.FromSeconds(20) && !writer.HasExited)
                        {
                            Thread.Sleep(1);
                        }

                        break;
                    default:
                        Thread.Sleep(random.Next(20, 400));
                        break;
                }

                writer.KillHard();
                Assert.False(writer.Lines.Any(l => l.StartsWith("ERROR", StringComparison.Ordinal)), writer.Transcript());
                Assert.False(writer.Lines.Any(l => l.StartsWith("DONE", StringComparison.Ordinal)), "the writer ended before it was killed");

                // Lock-free reads first: right after the kill, before any writer has recovered anything.
                var inFlight = ledger.Apply(writer.Lines);
                var failures = ledger.CheckAndAdopt(store, inFlight);
                Assert.True(failures.Count == 0, $"after kill {kill + 1}:\n{string.Join("\n", failures)}\n{writer.Transcript()}");
                AssertNextWriteIsPrompt(store);
                AssertValid(store);
                seen.UnionWith(store.GetStatistics().SegmentIds);
                if (reader is not null)
                {
                    AssertNoViolations(reader);
                }
            }

            var statistics = store.GetStatistics();
            Output.WriteLine($"{ledger.Acks} acknowledged operations; generation {startGeneration} -> {statistics.Generation}; capacity {statistics.Capacity}");
            if (reader is not null)
            {
                reader.KillHard();
                AssertNoViolations(reader);
                Output.WriteLine("reader: " + reader.Lines.LastOrDefault(l => l.StartsWith("PROGRESS", StringComparison.Ordinal)));
            }
        }
        finally
        {
            reader?.Dispose();
            generation = GenerationOf(store);
            DestroyQuietly(storeName, store);
        }

        AssertNothingLeft(storeName, generation);
        var leaked = SegmentsCreatedBy(pids, started);
        Assert.True(leaked.Count == 0, "segments left behind by killed writers: " + Describe(leaked));

        // Disposing detaches everything this process mapped for the store, however many arenas it followed.
        var stillMapped = MappedShmIds().Intersect(seen).ToList();
        Assert.True(stillMapped.Count == 0, "segments still mapped by this process after Dispose: " + string.Join(", ", stillMapped));
    }

    /// <summary>A spare kept at one size goes stale when the store grows; the writer dropping it is killed between
    /// forgetting it and removing it. Needs a store that first compacts in place (small live data, many overwrites:
    /// a spare exists), then grows (large values).</summary>
    [SysVFact]
    public void Writer_killed_while_dropping_a_stale_spare_leaks_nothing() =>
        CrashAt("grow.stale-spare-drop", 1,
            prelude: ["--names", "4", "--min-size", "2000", "--max-size", "4000", "--count", "200"],
            shape: ["--names", "16", "--min-size", "20000", "--max-size", "30000", "--count", "400"]);

    private void CrashAt(string point, int hit, string[]? prelude = null, string[]? shape = null)
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        var ledger = new AckLedger("n", 16);
        var pids = new List<int>();
        var started = DateTimeOffset.UtcNow;
        long generation;
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            if (prelude is not null)
            {
                using var first = TestHostProcess.Run(TimeSpan.FromSeconds(120), ["writer", storeName, "--id", "100", "--seed", "6", .. prelude]);
                pids.Add(first.Id);
                Assert.True(first.ExitCode == 0, first.Transcript());
                var failures = ledger.CheckAndAdopt(store, ledger.Apply(first.Lines));
                Assert.True(failures.Count == 0, string.Join("\n", failures));
            }

            var removeEvery = point.StartsWith("remove.", StringComparison.Ordinal) ? "3" : "0";
            string[] writerShape = shape ?? ["--count", "4000", "--big-every", "3", "--big-size", "40000", "--remove-every", removeEvery];
            using (var writer = TestHostProcess.Run(TimeSpan.FromSeconds(120),
                ["writer", storeName, "--id", "1", "--seed", "7", .. writerShape, "--crash-at", point, "--crash-hit", hit.ToString(Inv)]))
            {
                pids.Add(writer.Id);
                Assert.False(writer.Lines.Any(l => l.StartsWith("ERROR", StringComparison.Ordinal)), writer.Transcript());
                Assert.True(writer.Lines.Contains($"CRASH {point} {hit}"),
                    $"the writer never reached crash point {point} (hit {hit})\n{writer.Transcript(5)}");
                Assert.True(writer.ExitCode == 128 + 9, $"exit code {writer.ExitCode}, expected death by SIGKILL");

                var failures = ledger.CheckAndAdopt(store, ledger.Apply(writer.Lines));
                Assert.True(failures.Count == 0, $"after a kill at {point} (hit {hit}):\n{string.Join("\n", failures)}\n{writer.Transcript()}");
            }

            AssertNextWriteIsPrompt(store);
            AssertValid(store);

            // A fresh process carries on normally, growing and compacting through the same steps.
            using (var next = TestHostProcess.Run(TimeSpan.FromSeconds(120),
                ["writer", storeName, "--id", "2", "--seed", "8", "--count", "300", "--big-every", "3", "--big-size", "40000", "--remove-every", "5"]))
            {
                pids.Add(next.Id);
                Assert.True(next.ExitCode == 0 && next.Lines.Any(l => l.StartsWith("DONE", StringComparison.Ordinal)), next.Transcript());
                var failures = ledger.CheckAndAdopt(store, ledger.Apply(next.Lines));
                Assert.True(failures.Count == 0, string.Join("\n", failures));
            }

            AssertValid(store);

            // The leak check below must be able to see the live store's anchor and arena, or it proves nothing.
            var live = SegmentsAtStoreKeys(storeName, store.GetStatistics().Generation);
            var objects = ArenaObjectsAtStoreKeys(storeName);
            Assert.True(live.Count + objects.Count >= 2 && live.Count >= 1,
                $"the store's own segments and arena objects are not found at its derived keys: {Describe(live)}; {string.Join(", ", objects)}");
        }
        finally
        {
            generation = GenerationOf(store);
            DestroyQuietly(storeName, store);
        }

        AssertNothingLeft(storeName, generation);

        // An arena created by the killed writer and never published (grow.after-shmget, grow.after-copy) or an old
        // one not yet removed (grow.after-publish) must have been cleaned up by recovery or by DestroyStore.
        var leaked = SegmentsCreatedBy(pids, started);
        Assert.True(leaked.Count == 0, $"segments left behind after a kill at {point}: " + Describe(leaked));
    }
}
