using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Memalloc.TestHost;
using Xunit;
using Xunit.Abstractions;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// Several processes on one store at once: writers on shared names, readers checking every value they see
/// while the arena grows and compacts underneath them, compare-and-set across processes.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class MultiProcessTests : ChildProcessTests
{
    public MultiProcessTests(ITestOutputHelper output)
        : base(output)
    {
    }

    [SysVFact]
    public void Readers_never_see_a_torn_or_mixed_value_while_writers_grow_the_store() =>
        WritersAndReaders(writers: 2, readers: 2, writesEach: 1500);

    [SysVFact]
    [Trait("Category", "Stress")]
    public void Many_writers_and_readers_for_a_long_time_never_see_a_torn_value() =>
        WritersAndReaders(writers: 4, readers: 4, writesEach: 20000);

    [SysVFact]
    public void Compare_and_set_across_processes_loses_no_increment()
    {
        const int Processes = 3;
        const int Increments = 300;
        var storeName = NewStoreName();
        MemStore? store = null;
        var hosts = new List<TestHostProcess>();
        try
        {
            store = MemStore.Open(storeName);
            for (var i = 0; i < Processes; i++)
            {
                hosts.Add(TestHostProcess.Start("incr", storeName, "counter", Increments.ToString(CultureInfo.InvariantCulture)));
            }

            foreach (var host in hosts)
            {
                Assert.True(host.WaitForExit(TimeSpan.FromSeconds(120)), "incrementer hung\n" + host.Transcript());
                Assert.True(host.ExitCode == 0, host.Transcript());
                Output.WriteLine(host.Lines.Last());
            }

            Assert.Equal((Processes * Increments).ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetString(store.Get("counter")!));
            AssertValid(store);
        }
        finally
        {
            hosts.ForEach(h => h.Dispose());
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>
    /// Readers stopped (SIGSTOP) at random moments, possibly mid-copy, while the writer compacts many times, so the
    /// arena they were reading is retired and recycled under them; resumed, they must notice (the arena's generation
    /// changed) and retry, never return what they copied from the rewritten arena.
    /// </summary>
    [SysVFact]
    public void Readers_paused_while_their_arena_is_recycled_never_return_a_torn_value()
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        var hosts = new List<TestHostProcess>();
        long pausedGeneration;
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            var startGeneration = store.GetStatistics().Generation;
            var writer = TestHostProcess.Start("writer", storeName, "--id", "1", "--seed", "3", "--min-size", "2000", "--max-size", "20000",
                "--big-every", "4", "--big-size", "60000");
            hosts.Add(writer);
            Assert.StartsWith("READY", writer.WaitForReady(), StringComparison.Ordinal);
            var readers = Enumerable.Range(0, 2).Select(_ => TestHostProcess.Start("reader", storeName, "--seconds", "600")).ToList();
            hosts.AddRange(readers);
            readers.ForEach(r => Assert.StartsWith("READY", r.WaitForReady(), StringComparison.Ordinal));
            var random = new Random(9);
            for (var pause = 0; pause < 40; pause++)
            {
                var reader = readers[pause % readers.Count];
                System.Threading.Thread.Sleep(random.Next(0, 15));
                Assert.Equal(0, SysVTestNative.Signal(reader.Id, SysVTestNative.SIGSTOP));
                var acks = writer.CountLines("ACK");
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (writer.CountLines("ACK") < acks + 60 && DateTime.UtcNow < deadline)
                {
                    System.Threading.Thread.Sleep(2);
                }

                Assert.Equal(0, SysVTestNative.Signal(reader.Id, SysVTestNative.SIGCONT));
            }

            foreach (var reader in readers)
            {
                reader.WaitForLine(l => l.StartsWith("PROGRESS", StringComparison.Ordinal), TimeSpan.FromSeconds(30), startIndex: reader.Lines.Count);
                reader.KillHard();
                AssertNoViolations(reader);
                Output.WriteLine($"reader {reader.Id}: " + reader.Lines.Last(l => l.StartsWith("PROGRESS", StringComparison.Ordinal)));
            }

            writer.KillHard();
            Assert.DoesNotContain(writer.Lines, l => l.StartsWith("ERROR", StringComparison.Ordinal));
            var generation = store.GetStatistics().Generation;
            Output.WriteLine($"generation {startGeneration} -> {generation}");
            Assert.True(generation > startGeneration + 10, "too few compactions to recycle arenas under the paused readers");
            AssertValid(store);
        }
        finally
        {
            hosts.ForEach(h =>
            {
                _ = SysVTestNative.Signal(h.Id, SysVTestNative.SIGCONT);
                h.Dispose();
            });
            pausedGeneration = GenerationOf(store);
            DestroyQuietly(storeName, store);
        }

        AssertNothingLeft(storeName, pausedGeneration);
    }

    /// <summary>Processes opening a store that does not exist yet, all at the same moment: exactly one store is
    /// created (EEXIST from a racing creator means scan again), and every process wrote into it.</summary>
    [SysVFact]
    public void Processes_creating_the_same_store_at_once_end_up_in_one_store()
    {
        const int Processes = 6;
        var storeName = NewStoreName();
        var hosts = new List<TestHostProcess>();
        try
        {
            var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1500;
            for (var i = 0; i < Processes; i++)
            {
                hosts.Add(TestHostProcess.Start("open", storeName, "p" + i.ToString(CultureInfo.InvariantCulture), "--at", at.ToString(CultureInfo.InvariantCulture)));
            }

            var anchors = new HashSet<string>(StringComparer.Ordinal);
            foreach (var host in hosts)
            {
                Assert.True(host.WaitForExit(TimeSpan.FromSeconds(60)) && host.ExitCode == 0, host.Transcript());
                anchors.Add(host.Lines.Single(l => l.StartsWith("OPENED", StringComparison.Ordinal)));
            }

            Assert.True(anchors.Count == 1, "several stores were created: " + string.Join("; ", anchors));
            using var store = MemStore.OpenExisting(storeName);
            Assert.NotNull(store);
            Assert.Equal(Enumerable.Range(0, Processes).Select(i => "p" + i.ToString(CultureInfo.InvariantCulture)), store.ListNames());
            AssertValid(store);
        }
        finally
        {
            hosts.ForEach(h => h.Dispose());
            DestroyQuietly(storeName, null);
        }
    }

    private void WritersAndReaders(int writers, int readers, int writesEach)
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        var writerHosts = new List<TestHostProcess>();
        var readerHosts = new List<TestHostProcess>();
        long generation;
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            var startGeneration = store.GetStatistics().Generation;
            for (var r = 0; r < readers; r++)
            {
                readerHosts.Add(TestHostProcess.Start("reader", storeName, "--names", "24", "--seconds", "600"));
            }

            readerHosts.ForEach(h => Assert.StartsWith("READY", h.WaitForReady(), StringComparison.Ordinal));
            for (var w = 0; w < writers; w++)
            {
                var id = (w + 1).ToString(CultureInfo.InvariantCulture);
                writerHosts.Add(TestHostProcess.Start("writer", storeName, "--id", id, "--seed", id, "--names", "24",
                    "--count", writesEach.ToString(CultureInfo.InvariantCulture), "--big-every", "10", "--big-size", "50000"));
            }

            // A grower: live data well past the first arena, so the store also moves to larger segments (shmget,
            // a new size) under the readers, not only recycles same-sized ones.
            var startCapacity = store.GetStatistics().Capacity;
            var growerReader = TestHostProcess.Start("reader", storeName, "--prefix", "g", "--names", "48", "--seconds", "600");
            readerHosts.Add(growerReader);
            Assert.StartsWith("READY", growerReader.WaitForReady(), StringComparison.Ordinal);
            writerHosts.Add(TestHostProcess.Start("writer", storeName, "--id", "99", "--seed", "99", "--prefix", "g", "--names", "48",
                "--count", (writesEach / 4).ToString(CultureInfo.InvariantCulture), "--min-size", "30000", "--max-size", "70000"));

            foreach (var writer in writerHosts)
            {
                Assert.True(writer.WaitForExit(TimeSpan.FromSeconds(300)), "writer hung\n" + writer.Transcript());
                Assert.True(writer.ExitCode == 0 && writer.Lines.Any(l => l.StartsWith("DONE", StringComparison.Ordinal)), writer.Transcript());
            }

            // Let every reader finish at least one more pass over a settled store, then stop them.
            foreach (var reader in readerHosts)
            {
                reader.WaitForLine(l => l.StartsWith("PROGRESS", StringComparison.Ordinal), TimeSpan.FromSeconds(30), startIndex: reader.Lines.Count);
                reader.KillHard();
                AssertNoViolations(reader);
                var progress = ProcessTestSupport.Fields(reader.Lines.Last(l => l.StartsWith("PROGRESS", StringComparison.Ordinal)));
                Output.WriteLine($"reader {reader.Id}: {progress[1]} reads, {progress[2]} found");
                Assert.True(long.Parse(progress[2], CultureInfo.InvariantCulture) > 0, "a reader never found a value");
            }

            // Writes are serialised store-wide, so each name holds the acknowledged write with the highest version
            // (no removals here: a removal carries no version, so its order against another writer's write is unknown).
            var last = new Dictionary<string, (long Version, string? Hash)>(StringComparer.Ordinal);
            foreach (var line in writerHosts.SelectMany(w => w.Lines))
            {
                var f = ProcessTestSupport.Fields(line);
                if (f[0] == "ACK" && f[1] == "SET")
                {
                    var version = long.Parse(f[4], CultureInfo.InvariantCulture);
                    if (!last.TryGetValue(f[2], out var seen) || version > seen.Version)
                    {
                        last[f[2]] = (version, f[5]);
                    }
                }
            }

            foreach (var (name, (version, hash)) in last)
            {
                Assert.True(store.TryGet(name, out var entry), $"{name} missing");
                Assert.Null(Payload.Check(name, entry!.Data, out _, out _));
                Assert.True(entry.Info.Version == version && Payload.HashText(entry.Data) == hash,
                    $"{name}: holds version {entry.Info.Version}, but the last acknowledged write was version {version} ({hash})");
            }

            generation = store.GetStatistics().Generation;
            var capacity = store.GetStatistics().Capacity;
            Output.WriteLine($"generation {startGeneration} -> {generation}, capacity {startCapacity} -> {capacity}");
            Assert.True(capacity > startCapacity, "the store never grew to a larger arena");
            Assert.True(generation > startGeneration, "the store never grew or compacted: the test did not exercise readers following a new arena");
            AssertValid(store);
        }
        finally
        {
            writerHosts.ForEach(h => h.Dispose());
            readerHosts.ForEach(h => h.Dispose());
            generation = GenerationOf(store);
            DestroyQuietly(storeName, store);
        }

        AssertNothingLeft(storeName, generation);
    }
}
