using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Memalloc.TestHost;
using Xunit;
using Xunit.Abstractions;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// A store removed underneath its users: by DestroyStore in another process, or by `ipcrm -m` (IPC_RMID from
/// outside, as systemd's RemoveIPC or an administrator does) of the anchor, the arena or both. Every call returns
/// promptly (never a hang): with a clear StoreRemoved, or working on a fresh store; and the name is usable again.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class StoreRemovedTests : ChildProcessTests
{
    /// <summary>Any single call after the removal; far above what a call costs, far below a hung test run.</summary>
    private const double CallBoundSeconds = 15;


    public StoreRemovedTests(ITestOutputHelper output)
        : base(output)
    {
    }

    [SysVFact]
    public void Destroyed_by_another_process_gives_StoreRemoved_to_an_open_instance()
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName);
            store.Set("a", Payload.Create("a", 1, 1, 64));
            using (var destroyer = TestHostProcess.Run(TimeSpan.FromSeconds(60), ["destroy", storeName]))
            {
                Assert.True(destroyer.Lines.Contains("DESTROYED 1"), destroyer.Transcript());
            }

            var open = store;
            AssertRemoved(() => open.Get("a"), "Get");
            AssertRemoved(() => open.Set("a", Payload.Create("a", 1, 2, 64)), "Set");
            AssertRemoved(() => open.Remove("a"), "Remove");
            AssertRemoved(() => open.List(), "List");

            // The name is free again: a new store, empty.
            using var fresh = MemStore.Open(storeName);
            Assert.Null(fresh.Get("a"));
            fresh.Set("a", Payload.Create("a", 2, 1, 64));
            AssertValid(fresh);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    [SysVFact]
    public void Reader_in_another_process_gets_StoreRemoved_when_the_store_is_destroyed()
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName);
            for (var i = 0; i < 16; i++)
            {
                var name = "n" + i.ToString(CultureInfo.InvariantCulture);
                store.Set(name, Payload.Create(name, 1, i + 1, 200));
            }

            using var reader = TestHostProcess.Start("reader", storeName, "--seconds", "120");
            Assert.StartsWith("READY", reader.WaitForReady(), StringComparison.Ordinal);
            reader.WaitForLine(l => l.StartsWith("PROGRESS", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            store.Destroy();
            store = null;
            var line = reader.WaitForLine(l => l.StartsWith("REMOVED", StringComparison.Ordinal) || l.StartsWith("READS", StringComparison.Ordinal)
                || l.StartsWith("ERROR", StringComparison.Ordinal), TimeSpan.FromSeconds(CallBoundSeconds));
            Assert.True(line.StartsWith("REMOVED", StringComparison.Ordinal), reader.Transcript());
            Assert.True(reader.WaitForExit(TimeSpan.FromSeconds(30)) && reader.ExitCode == 0, reader.Transcript());
            AssertNoViolations(reader);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    [SysVTheory]
    [InlineData("anchor")]
    [InlineData("arena")]
    [InlineData("both")]
    public void Segments_removed_with_ipcrm_give_StoreRemoved_or_a_fresh_store_never_a_hang(string which)
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName);
            janitor.TrackStore(store);
            for (var i = 0; i < 8; i++)
            {
                var name = "n" + i.ToString(CultureInfo.InvariantCulture);
                store.Set(name, Payload.Create(name, 1, i + 1, 300));
            }

            var ids = store.GetStatistics().SegmentIds;
            var targets = which switch
            {
                "anchor" => new[] { ids[0] },
                "arena" => new[] { ids[1] },
                _ => new[] { ids[0], ids[1] },
            };
            foreach (var id in targets)
            {
                IpcRm(id);
            }

            // The instance that was open: each call returns or says StoreRemoved; a value it returns is genuine.
            var open = store;
            var outcomes = new List<string>
            {
                Outcome("Get", () => Describe(open.Get("n1"), "n1")),
                Outcome("Set", () => open.Set("n2", Payload.Create("n2", 2, 1, 300)).ToString(CultureInfo.InvariantCulture)),
                Outcome("Get after Set", () => Describe(open.Get("n2"), "n2")),
                Outcome("Remove", () => open.Remove("n3").ToString()),
                Outcome("List", () => open.List().Count.ToString(CultureInfo.InvariantCulture)),
                Outcome("GetStatistics", () => open.GetStatistics().Entries.ToString(CultureInfo.InvariantCulture)),
                Outcome("Verify", () => open.Verify().IsValid ? "valid" : "invalid"),
            };
            Output.WriteLine($"after ipcrm of the {which}, the open instance: " + string.Join("; ", outcomes));
            Assert.DoesNotContain(outcomes, o => o.Contains("NOT GENUINE", StringComparison.Ordinal));

            // Another process opening the store by name: never a crash or a hang.
            using (var inspector = TestHostProcess.Run(TimeSpan.FromSeconds(60), ["inspect", storeName, "--names", "8"]))
            {
                Output.WriteLine("another process: " + string.Join("; ", inspector.Lines));
                Assert.True(inspector.ExitCode == 0, inspector.Transcript());
                Assert.DoesNotContain(inspector.Lines, l => l.Contains(" bad ", StringComparison.Ordinal));
                var open2 = inspector.Lines.First(l => l.StartsWith("OPEN", StringComparison.Ordinal));
                Assert.True(open2 is "OPEN ok" or "OPEN missing" or "OPEN threw StoreRemoved" or "OPEN threw Corrupt", open2);
            }

            store.Dispose();
            store = null;

            // The way out always exists: open by name (destroying first if the remains are refused) gives a working store.
            MemStore fresh;
            try
            {
                fresh = Within(CallBoundSeconds, "Open after ipcrm", () => MemStore.Open(storeName));
            }
            catch (MemStoreException e) when (e.Kind is MemStoreErrorKind.StoreRemoved or MemStoreErrorKind.Corrupt)
            {
                Output.WriteLine($"Open after ipcrm: {e.Kind}: {e.Message}; destroying and reopening");
                Within(CallBoundSeconds, "DestroyStore after ipcrm", () => MemStore.DestroyStore(storeName));
                fresh = MemStore.Open(storeName);
            }

            using (fresh)
            {
                janitor.TrackStore(fresh);
                fresh.Set("after", Payload.Create("after", 3, 1, 100));
                Assert.Null(Payload.Check("after", fresh.Get("after"), out _, out _));
                AssertValid(fresh);
            }
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>The write path makes no system call, so a write right after an outside removal can land in the
    /// doomed mapping; but not for long: within a bounded time the open instance must say StoreRemoved instead of
    /// acknowledging writes that vanish with the last detach. And another process must not adopt a segment that
    /// is marked for destruction as the store and write to it.</summary>
    [SysVTheory]
    [InlineData("anchor")]
    [InlineData("arena")]
    [InlineData("both")]
    public void Writes_after_ipcrm_are_refused_with_StoreRemoved_not_silently_lost(string which)
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName);
            janitor.TrackStore(store);
            store.Set("n0", Payload.Create("n0", 1, 1, 300));
            var ids = store.GetStatistics().SegmentIds;
            foreach (var id in which switch { "anchor" => new[] { ids[0] }, "arena" => new[] { ids[1] }, _ => ids.ToArray() })
            {
                IpcRm(id);
            }

            using (var inspector = TestHostProcess.Run(TimeSpan.FromSeconds(60), ["inspect", storeName, "--names", "1"]))
            {
                Output.WriteLine("another process: " + string.Join("; ", inspector.Lines));
                Assert.True(inspector.ExitCode == 0, inspector.Transcript());
                Assert.False(inspector.Lines.Contains("WRITE ok"),
                    $"another process wrote into the store whose {which} was removed (the write is lost at the last detach): "
                    + string.Join("; ", inspector.Lines));
            }

            var open = store;
            var acknowledged = 0;
            var stopwatch = Stopwatch.StartNew();
            MemStoreException? refused = null;
            while (refused is null && stopwatch.Elapsed < TimeSpan.FromSeconds(5))
            {
                try
                {
                    Within(CallBoundSeconds, "Set after ipcrm", () => open.Set("n1", Payload.Create("n1", 1, acknowledged + 2, 300)));
                    acknowledged++;
                    System.Threading.Thread.Sleep(50);
                }
                catch (MemStoreException e)
                {
                    refused = e;
                }
            }

            Output.WriteLine($"{acknowledged} writes acknowledged after the ipcrm of the {which} before: {refused?.Kind.ToString() ?? "none"}");
            Assert.True(refused is not null, $"{acknowledged} writes over 5 s after the {which} was removed were all acknowledged (and lost)");
            Assert.Equal(MemStoreErrorKind.StoreRemoved, refused.Kind);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>
    /// DestroyStore killed midway (SIGKILL during Remove-MemStore), at each of its steps. Open afterwards works or
    /// says StoreRemoved (then DestroyStore finishes the job), and once the store is opened and destroyed again
    /// nothing of it may remain: otherwise an arena's memory leaks until reboot.
    /// </summary>
    [SysVTheory]
    [InlineData("destroy.after-arena-rmid")]
    [InlineData("destroy.after-mark")]
    public void Destroy_killed_midway_leaves_nothing_behind_for_good(string point)
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            janitor.TrackStore(store);
            for (var i = 0; i < 40; i++)
            {
                // Enough compactions for a spare arena to exist too.
                store.Set("n" + (i % 4).ToString(CultureInfo.InvariantCulture), Payload.Create("n" + (i % 4).ToString(CultureInfo.InvariantCulture), 1, i + 1, 100_000));
            }

            var generation = store.GetStatistics().Generation;
            store.Dispose();
            store = null;

            using (var destroyer = TestHostProcess.Run(TimeSpan.FromSeconds(60), ["destroy", storeName, "--crash-at", point]))
            {
                Assert.True(destroyer.Lines.Contains($"CRASH {point} 1"), destroyer.Transcript());
            }

            MemStore reopened;
            try
            {
                reopened = Within(CallBoundSeconds, "Open after a destroy killed midway", () => MemStore.Open(storeName));
            }
            catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.StoreRemoved)
            {
                Output.WriteLine($"Open: {e.Message}; DestroyStore finishes the job");
                Assert.True(Within(CallBoundSeconds, "DestroyStore after a destroy killed midway", () => MemStore.DestroyStore(storeName)));
                reopened = MemStore.Open(storeName);
            }

            using (reopened)
            {
                janitor.TrackStore(reopened);
                Assert.Null(reopened.Get("n0"));
                reopened.Set("n1", Payload.Create("n1", 1, 2, 300));
                AssertValid(reopened);
            }

            Assert.True(MemStore.DestroyStore(storeName));
            Assert.False(MemStore.DestroyStore(storeName));
            AssertNothingLeft(storeName, generation + 4);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>Open while another process is in the middle of DestroyStore (paused at each step, holding the
    /// writer lock): Open waits for it and then creates a fresh store, instead of failing.</summary>
    [SysVTheory]
    [InlineData("destroy.after-arena-rmid")]
    [InlineData("destroy.after-mark")]
    public void Open_during_a_destroy_in_another_process_gets_a_fresh_store(string point)
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        try
        {
            using (var store = MemStore.Open(storeName))
            {
                janitor.TrackStore(store);
                store.Set("n0", Payload.Create("n0", 1, 1, 300));
            }

            using var destroyer = TestHostProcess.Start("destroy", storeName, "--pause-at", point, "--pause-ms", "1500");
            destroyer.WaitForLine(l => l.StartsWith("PAUSE", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            using (var fresh = Within(CallBoundSeconds, "Open during a destroy", () => MemStore.Open(storeName)))
            {
                janitor.TrackStore(fresh);
                Assert.Null(fresh.Get("n0"));
                fresh.Set("n1", Payload.Create("n1", 1, 2, 300));
                AssertValid(fresh);
            }

            Assert.True(destroyer.WaitForExit(TimeSpan.FromSeconds(30)) && destroyer.ExitCode == 0, destroyer.Transcript());
            Assert.Contains("DESTROYED 1", destroyer.Lines);
            using var again = MemStore.OpenExisting(storeName);
            Assert.True(again is not null && again.Get("n1") is not null, "the fresh store did not survive the end of the other destroy");
        }
        finally
        {
            DestroyQuietly(storeName, null);
        }
    }

    private static void IpcRm(int shmid)
    {
        var info = new ProcessStartInfo("ipcrm") { RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-m");
        info.ArgumentList.Add(shmid.ToString(CultureInfo.InvariantCulture));
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"ipcrm -m {shmid}: {error}");
    }

    private static string Describe(byte[]? value, string name) =>
        value is null ? "null" : Payload.Check(name, value, out _, out _) is { } problem ? "NOT GENUINE: " + problem : "genuine";

    private static string Outcome(string what, Func<string> call)
    {
        try
        {
            return $"{what} -> {Within(CallBoundSeconds, what, call)}";
        }
        catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.StoreRemoved)
        {
            return $"{what} -> StoreRemoved";
        }
    }

    private static void AssertRemoved(Action call, string what)
    {
        var e = Assert.Throws<MemStoreException>(() => Within(CallBoundSeconds, what, call));
        Assert.True(e.Kind == MemStoreErrorKind.StoreRemoved, $"{what}: {e.Kind}: {e.Message}");
    }
}
