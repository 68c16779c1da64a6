using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using Memalloc.Core;
using Memalloc.Core.Snapshots;

namespace Memalloc.TestHost;

/// <summary>
/// Child process of the multi-process and crash tests. Every line it prints is one protocol message ending in
/// " ." so that the test can ignore a line cut short by SIGKILL. Subcommands:
/// <list type="bullet">
/// <item><c>writer STORE --id W [--names K --prefix P --count N --seed S --min-size A --max-size B --big-every M
/// --big-size Z --remove-every R --crash-at POINT --crash-hit H]</c>: prints BEGIN before and ACK after each
/// committed write or removal (flushed before the next), so the test knows what is acknowledged and what was in
/// flight when it killed the process.</item>
/// <item><c>reader STORE [--names K --prefix P --seconds T]</c>: reads continuously, checks every value
/// (<see cref="Payload"/>) and that a name's version never goes back; prints TORN / REGRESS on a violation,
/// PROGRESS every half second, REMOVED when the store is destroyed underneath.</item>
/// <item><c>incr STORE NAME COUNT</c>: compare-and-set increments of a decimal counter.</item>
/// <item><c>inspect STORE [--names K --prefix P --big-write BYTES]</c>: Verify, read every name, list, statistics,
/// try one write (and one that must grow the store, then Verify again); reports instead of throwing, so a crash
/// (signal, unexpected exception type) is visible as the exit code.</item>
/// <item><c>plant KEY SIZE MODE [--copy-from FILE]</c>: creates a segment at a chosen key (run as another user
/// through setpriv to plant a foreign segment).</item>
/// <item><c>try-attach SHMID</c>: shmat and report ATTACHED or DENIED errno.</item>
/// <item><c>destroy STORE [--crash-at POINT | --pause-at POINT --pause-ms MS]</c>: MemStore.DestroyStore from another
/// process, killed or paused at one of its steps.</item>
/// <item><c>open STORE NAME [--at UNIXMS] [--creation-wait-ms MS]</c>: waits until the given time (so that several
/// processes race), opens (creating) the store, writes NAME, prints the anchor's key and shmid.</item>
/// <item><c>dispose-while-waiting STORE NAME [--hold-seconds S]</c>: one thread writes NAME and waits for the writer
/// lock (another process must hold it) while the main thread disposes the store; prints how the write ended and
/// how many System V mappings are left, then stays alive for S seconds, so that a lock word it failed to release
/// keeps blocking other writers.</item>
/// <item><c>turn STORE NAME</c>: waits for the update turn of stack NAME (printing READY before), prints HELD once it
/// has it, and holds it until killed.</item>
/// <item><c>wait-word SHMID OFFSET EXPECTED TIMEOUT_MS</c>: waits on a word of a segment with the core's wait primitive
/// (<see cref="WaitWordCommand"/>).</item>
/// <item><c>bucket-pong</c>, <c>bucket-wait</c>: the other side of the wait-bucket tests (<see cref="BucketCommands"/>).</item>
/// <item><c>history STORE --id P ...</c>: random operations logged with start and end times (<see cref="History"/>).</item>
/// <item><c>coord STORE COUNT [POINT HIT]</c>: sends, receives and locks, logged (<see cref="CoordinationCommand"/>);
/// <c>lock-wait STORE NAME MS</c>: the CPU a lock waiter uses.</item>
/// <item><c>export STORE PATH [--crash-at POINT | --pause-at POINT --pause-ms MS]</c>: takes a snapshot of the store and
/// writes it to PATH (replacing a file there), killed or paused at one of the snapshot's steps; prints EXPORTED and the
/// number of stacks when done.</item>
/// </list>
/// Writers, destroyers and openers take <c>--pause-at POINT --pause-ms MS</c>: they stop at the first hit of that
/// step (printing PAUSE POINT UNIXMS, then RESUME).
/// </summary>
internal static class Program
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    private static int Main(string[] args)
    {
        Console.Out.Flush();
        var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true, NewLine = "\n" };
        Console.SetOut(stdout);
        if (args.Length == 0)
        {
            Say("ERROR usage: writer|reader|incr|inspect|plant|try-attach ...");
            return 2;
        }

        try
        {
            return args[0] switch
            {
                "writer" => Writer(args),
                "reader" => Reader(args),
                "incr" => Increment(args),
                "inspect" => Inspect(args),
                "plant" => Plant(args),
                "try-attach" => TryAttach(args),
                "destroy" => Destroy(args),
                "open" => OpenAndWrite(args),
                "turn" => HoldTurn(args),
                "dispose-while-waiting" => DisposeWhileWaiting(args),
                "wait-word" => WaitWordCommand.Run(args),
                "bucket-pong" => BucketCommands.Pong(args),
                "bucket-wait" => BucketCommands.Wait(args),
                "history" => History.Run(args),
                "coord" => CoordinationCommand.Run(args),
                "lock-wait" => CoordinationCommand.LockWait(args),
                "export" => Export(args),
                _ => Usage(args[0]),
            };
        }
        catch (MemStoreException e)
        {
            Say($"ERROR {e.Kind} {OneLine(e.Message)}");
            return 3;
        }
    }

    private static int Usage(string command)
    {
        Say($"ERROR unknown subcommand {command}");
        return 2;
    }

    internal static void Say(string line) => Console.Out.WriteLine(line + " .");

    private static string OneLine(string text) => text.Replace('\n', ' ').Replace('\r', ' ');

    private static string Option(string[] args, string name, string fallback)
    {
        for (var i = 1; i < args.Length - 1; i++)
        {
            if (args[i] == name)
            {
                return args[i + 1];
            }
        }

        return fallback;
    }

    private static int IntOption(string[] args, string name, int fallback) =>
        int.Parse(Option(args, name, fallback.ToString(s_inv)), s_inv);

    /// <summary>Installs a CrashPoints hook that SIGKILLs this process at the Nth hit of the named step.</summary>
    internal static void InstallCrashPoint(string point, int hit)
    {
        var hits = 0;
        InstallHook(name =>
        {
            if (name == point && Interlocked.Increment(ref hits) == hit)
            {
                Say($"CRASH {point} {hit}");
                SysVTestNative.KillSelf();
                Thread.Sleep(Timeout.Infinite);
            }
        });
    }

    /// <summary>Like <see cref="InstallCrashPoint"/>, but stops at the first hit of the step for a while (printing
    /// PAUSE with the Unix ms time it began, then RESUME), so that the test can act while this process is in the
    /// middle of an operation.</summary>
    private static void InstallPausePoint(string point, int milliseconds)
    {
        var paused = 0;
        InstallHook(name =>
        {
            if (name == point && Interlocked.Exchange(ref paused, 1) == 0)
            {
                Say($"PAUSE {point} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
                Thread.Sleep(milliseconds);
                Say($"RESUME {point}");
            }
        });
    }

    private static void InstallHook(Action<string> hook) => CrashPoints.Hit = hook;

    /// <summary>--pause-at POINT [--pause-ms MS] of any subcommand.</summary>
    private static void PauseOption(string[] args)
    {
        var pauseAt = Option(args, "--pause-at", string.Empty);
        if (pauseAt.Length > 0)
        {
            InstallPausePoint(pauseAt, IntOption(args, "--pause-ms", 1000));
        }
    }

    private static int Writer(string[] args)
    {
        var storeName = args[1];
        var writerId = IntOption(args, "--id", 1);
        var names = IntOption(args, "--names", 16);
        var prefix = Option(args, "--prefix", "n");
        var count = IntOption(args, "--count", 0);
        var random = new Random(IntOption(args, "--seed", writerId));
        var minSize = IntOption(args, "--min-size", 40);
        var maxSize = IntOption(args, "--max-size", 600);
        var bigEvery = IntOption(args, "--big-every", 0);
        var bigSize = IntOption(args, "--big-size", 48 * 1024);
        var removeEvery = IntOption(args, "--remove-every", 0);
        var crashAt = Option(args, "--crash-at", string.Empty);
        if (crashAt.Length > 0)
        {
            InstallCrashPoint(crashAt, IntOption(args, "--crash-hit", 1));
        }

        PauseOption(args);

        using var store = MemStore.Open(storeName);
        Say($"READY {Environment.ProcessId}");
        long sequence = 0;
        for (var op = 0; count == 0 || op < count; op++)
        {
            var name = prefix + random.Next(names).ToString(s_inv);
            sequence++;
            if (removeEvery > 0 && random.Next(removeEvery) == 0)
            {
                Say($"BEGIN DEL {name} {sequence}");
                var removed = store.Remove(name);
                Say($"ACK DEL {name} {sequence} {(removed ? 1 : 0)}");
                continue;
            }

            var size = bigEvery > 0 && random.Next(bigEvery) == 0 ? bigSize : random.Next(minSize, maxSize + 1);
            var value = Payload.Create(name, writerId, sequence, size);
            var hash = Payload.HashText(value);
            Say($"BEGIN SET {name} {sequence} {hash}");
            var version = store.Set(name, value);
            Say($"ACK SET {name} {sequence} {version} {hash}");
        }

        Say($"DONE {count}");
        return 0;
    }

    private static int Reader(string[] args)
    {
        var storeName = args[1];
        var names = IntOption(args, "--names", 16);
        var prefix = Option(args, "--prefix", "n");
        var seconds = double.Parse(Option(args, "--seconds", "3"), s_inv);
        using var store = MemStore.OpenExisting(storeName);
        if (store is null)
        {
            Say("ERROR StoreNotFound");
            return 3;
        }

        Say($"READY {Environment.ProcessId}");
        var lastVersion = new long[names];
        long reads = 0, found = 0, violations = 0;
        var clock = Stopwatch.StartNew();
        var nextProgress = 0.5;
        try
        {
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                if (clock.Elapsed.TotalSeconds >= nextProgress)
                {
                    Say($"PROGRESS {reads} {found} {violations}");
                    nextProgress += 0.5;
                }

                for (var i = 0; i < names; i++)
                {
                    var name = prefix + i.ToString(s_inv);
                    reads++;
                    if (!store.TryGet(name, out var entry) || entry is null)
                    {
                        continue;
                    }

                    found++;
                    var problem = Payload.Check(name, entry.Data, out var writer, out var sequence);
                    if (problem is null && entry.Info.Name != name)
                    {
                        problem = $"metadata names {entry.Info.Name}";
                    }

                    if (problem is null && entry.Info.Size != entry.Data.Length)
                    {
                        problem = $"metadata size {entry.Info.Size} but {entry.Data.Length} bytes";
                    }

                    if (problem is not null)
                    {
                        violations++;
                        Say($"TORN {name} {OneLine(problem)}");
                    }
                    else if (entry.Info.Version < lastVersion[i])
                    {
                        violations++;
                        Say($"REGRESS {name} version {entry.Info.Version} after {lastVersion[i]} (writer {writer} sequence {sequence})");
                    }

                    lastVersion[i] = Math.Max(lastVersion[i], entry.Info.Version);
                }
            }
        }
        catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.StoreRemoved)
        {
            Say($"REMOVED {reads} {found}");
            return 0;
        }

        Say($"READS {reads} {found} {violations}");
        return 0;
    }

    private static int Export(string[] args)
    {
        var crashAt = Option(args, "--crash-at", string.Empty);
        if (crashAt.Length > 0)
        {
            InstallCrashPoint(crashAt, 1);
        }

        PauseOption(args);
        using var store = MemStore.OpenExisting(args[1]);
        if (store is null)
        {
            Say("ERROR StoreNotFound");
            return 3;
        }

        Say($"READY {Environment.ProcessId}");
        using var snapshot = store.TakeSnapshot();
        using var writer = SnapshotFileWriter.Create(args[2], store.Name, snapshot.TakenAt, SnapshotOverwrite.Replace);
        for (var i = 0; i < snapshot.Count; i++)
        {
            writer.WriteStack(snapshot.Get(i));
        }

        writer.Commit();
        Say($"EXPORTED {snapshot.Count}");
        return 0;
    }

    private static int HoldTurn(string[] args)
    {
        using var store = MemStore.Open(args[1]);
        Say($"READY {Environment.ProcessId}");
        using var turn = store.TakeUpdateTurn(args[2], Timeout.InfiniteTimeSpan);
        Say("HELD");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    private static int Increment(string[] args)
    {
        var storeName = args[1];
        var name = args[2];
        var count = int.Parse(args[3], s_inv);
        using var store = MemStore.Open(storeName);
        Say($"READY {Environment.ProcessId}");
        long conflicts = 0;
        for (var i = 0; i < count; i++)
        {
            while (true)
            {
                long expected = WriteOptions.MustNotExist;
                long current = 0;
                if (store.TryGet(name, out var entry) && entry is not null)
                {
                    expected = entry.Info.Version;
                    current = long.Parse(System.Text.Encoding.UTF8.GetString(entry.Data), s_inv);
                }

                var next = System.Text.Encoding.UTF8.GetBytes((current + 1).ToString(s_inv));
                if (store.TrySet(name, next, new WriteOptions { ExpectedVersion = expected }, out _))
                {
                    break;
                }

                conflicts++;
            }
        }

        Say($"DONE {count} {conflicts}");
        return 0;
    }

    private static int Inspect(string[] args)
    {
        var storeName = args[1];
        var names = IntOption(args, "--names", 16);
        var prefix = Option(args, "--prefix", "n");
        MemStore? store;
        try
        {
            store = MemStore.OpenExisting(storeName);
        }
        catch (MemStoreException e)
        {
            Say($"OPEN threw {e.Kind}");
            return 0;
        }

        if (store is null)
        {
            Say("OPEN missing");
            return 0;
        }

        using (store)
        {
            Say("OPEN ok");
            try
            {
                var report = store.Verify();
                Say($"VERIFY {(report.IsValid ? "valid" : "invalid")} {report.Problems.Count}");
                foreach (var problem in report.Problems)
                {
                    Say($"PROBLEM {OneLine(problem)}");
                }
            }
            catch (MemStoreException e)
            {
                Say($"VERIFY threw {e.Kind}");
            }

            for (var i = 0; i < names; i++)
            {
                var name = prefix + i.ToString(s_inv);
                try
                {
                    if (!store.TryGet(name, out var entry) || entry is null)
                    {
                        Say($"GOT {name} missing");
                        continue;
                    }

                    var problem = Payload.Check(name, entry.Data, out _, out _);
                    Say(problem is null ? $"GOT {name} ok {Payload.HashText(entry.Data)}" : $"GOT {name} bad {OneLine(problem)}");
                }
                catch (MemStoreException e)
                {
                    Say($"GOT {name} threw {e.Kind}");
                }
            }

            Report("LIST", () => $"ok {store.List().Count}");
            Report("STATS", () => $"ok {store.GetStatistics().Entries}");
            try
            {
                store.Set(prefix + "inspect-write", Payload.Create(prefix + "inspect-write", 999, 1, 64));
                Say("WRITE ok");
            }
            catch (MemStoreException e)
            {
                Say($"WRITE threw {e.Kind}");
            }

            var bigWrite = IntOption(args, "--big-write", 0);
            if (bigWrite > 0)
            {
                Report("VERIFY-AFTER-WRITE", () => VerifyText(store));
                // Larger than the free heap of a 1 MiB arena: the store must grow (or refuse clearly).
                Report("BIGWRITE", () => "ok " + store.Set(prefix + "inspect-big", Payload.Create(prefix + "inspect-big", 999, 2, bigWrite)).ToString(s_inv));
                Report("VERIFY-AFTER-BIGWRITE", () => VerifyText(store));
            }
        }

        return 0;

        static string VerifyText(MemStore store)
        {
            var report = store.Verify();
            return (report.IsValid ? "valid " : "invalid ") + OneLine(string.Join(" | ", report.Problems));
        }

        // One store call, reported as a line: "WHAT ok ..." or "WHAT threw KIND"; any other exception is a crash.
        static void Report(string what, Func<string> call)
        {
            try
            {
                Say($"{what} {call()}");
            }
            catch (MemStoreException e)
            {
                Say($"{what} threw {e.Kind}");
            }
        }
    }

    private static int Plant(string[] args)
    {
        var key = int.Parse(args[1], s_inv);
        var size = long.Parse(args[2], s_inv);
        var mode = Convert.ToInt32(args[3], 8);
        var id = SysVTestNative.ShmGet(key, size, SysVTestNative.IPC_CREAT | SysVTestNative.IPC_EXCL | mode);
        if (id < 0)
        {
            Say($"ERROR errno {-id}");
            return 3;
        }

        var copyFrom = Option(args, "--copy-from", string.Empty);
        if (copyFrom.Length > 0)
        {
            SysVTestNative.WriteSegment(id, 0, File.ReadAllBytes(copyFrom));
        }

        Say($"PLANTED {id}");
        return 0;
    }

    private static int OpenAndWrite(string[] args)
    {
        var storeName = args[1];
        var name = args[2];
        var at = long.Parse(Option(args, "--at", "0"), s_inv);
        PauseOption(args);

        var creationWait = Option(args, "--creation-wait-ms", string.Empty);
        if (creationWait.Length > 0)
        {
            // How long Open waits for another process's half-created anchor.
            Anchor.CreationWait = TimeSpan.FromMilliseconds(double.Parse(creationWait, s_inv));
        }

        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < at)
        {
            Thread.SpinWait(100);
        }

        using var store = MemStore.Open(storeName);
        store.Set(name, Payload.Create(name, Environment.ProcessId, 1, 64));
        var statistics = store.GetStatistics();
        Say($"OPENED {statistics.Key} {statistics.SegmentIds[0]}");
        return 0;
    }

    private static int Destroy(string[] args)
    {
        PauseOption(args);

        var crashAt = Option(args, "--crash-at", string.Empty);
        if (crashAt.Length > 0)
        {
            InstallCrashPoint(crashAt, IntOption(args, "--crash-hit", 1));
        }

        Say($"DESTROYED {(MemStore.DestroyStore(args[1]) ? 1 : 0)}");
        return 0;
    }

    private static int DisposeWhileWaiting(string[] args)
    {
        var storeName = args[1];
        var name = args[2];
        var holdSeconds = IntOption(args, "--hold-seconds", 30);
        using var waiting = new ManualResetEventSlim();
        InstallHook(point =>
        {
            if (point == "lock.wait")
            {
                waiting.Set();
            }
        });

        var store = MemStore.Open(storeName);
        Say($"READY {Environment.ProcessId}");
        string outcome = "none";
        var writer = new Thread(() =>
        {
            try
            {
                store.Set(name, Payload.Create(name, 7, 1, 64));
                outcome = "ok";
            }
            catch (Exception e)
            {
                outcome = e.GetType().Name;
            }
        });
        writer.Start();
        if (!waiting.Wait(TimeSpan.FromSeconds(60)))
        {
            Say("ERROR the write never waited for the lock");
            return 3;
        }

        store.Dispose();
        Say("DISPOSED");
        writer.Join();
        Say($"SET {outcome}");
        var mapped = 0;
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            if (line.Contains("/SYSV", StringComparison.Ordinal))
            {
                mapped++;
            }
        }

        Say($"MAPPED {mapped}");
        Thread.Sleep(TimeSpan.FromSeconds(holdSeconds));
        Say("EXIT");
        return 0;
    }

    private static int TryAttach(string[] args)
    {
        var shmid = int.Parse(args[1], s_inv);
        var address = SysVTestNative.ShmAt(shmid, readOnly: true, out var errno);
        if (address == IntPtr.Zero)
        {
            Say($"DENIED {errno}");
            return 0;
        }

        SysVTestNative.ShmDt(address);
        Say("ATTACHED");
        return 0;
    }
}
