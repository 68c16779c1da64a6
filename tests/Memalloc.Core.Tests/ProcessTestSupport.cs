using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Memalloc.TestHost;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>The multi-process, crash, hostile-segment and removal tests start many child processes: they run one
/// class at a time among themselves (other test classes still run beside them).</summary>
[CollectionDefinition(Name)]
public sealed class ChildProcessCollection
{
    internal const string Name = "Memalloc child processes";
}

/// <summary>A fact about System V behaviour: runs on Linux (the only platform these machines can test).</summary>
public sealed class SysVFactAttribute : FactAttribute
{
    public SysVFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "System V process tests run on Linux only.";
        }
    }
}

public sealed class SysVTheoryAttribute : TheoryAttribute
{
    public SysVTheoryAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "System V process tests run on Linux only.";
        }
    }
}

/// <summary>A fact that needs a second user: runs as root with setpriv (util-linux) available, as CI does;
/// skipped (with the reason) only when either is missing.</summary>
public sealed class OtherUserFactAttribute : FactAttribute
{
    public OtherUserFactAttribute()
    {
        Skip = ProcessTestSupport.OtherUserSkipReason();
    }
}

public sealed class OtherUserTheoryAttribute : TheoryAttribute
{
    public OtherUserTheoryAttribute()
    {
        Skip = ProcessTestSupport.OtherUserSkipReason();
    }
}

internal static class ProcessTestSupport
{
    internal static CultureInfo Inv { get; } = CultureInfo.InvariantCulture;

    /// <summary>Generous bound on the first write after a writer died holding the lock: the point is that no long
    /// lock timeout is involved, not speed.</summary>
    internal static TimeSpan NextWriteBound { get; } = TimeSpan.FromSeconds(5);

    /// <summary>A small first arena, so that a few hundred writes grow and compact it.</summary>
    internal static MemStoreOptions SmallArena { get; } = new() { InitialCapacity = 64 * 1024 };

    internal static string NewStoreName() => "t-" + Guid.NewGuid().ToString("N");

    internal static string? OtherUserSkipReason()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "Needs Linux.";
        }

        if (SysVTestNative.GetEuid() != 0)
        {
            return "Needs root to run a child as nobody with setpriv.";
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        if (!path.Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, "setpriv"))))
        {
            return "Needs setpriv (util-linux) on PATH.";
        }

        return null;
    }

    /// <summary>Runs <paramref name="action"/> on the thread pool and fails the test if it does not return within
    /// <paramref name="seconds"/>: a hang is reported, not waited out.</summary>
    internal static T Within<T>(double seconds, string what, Func<T> action)
    {
        var task = Task.Run(action);
        try
        {
            if (!task.Wait(TimeSpan.FromSeconds(seconds)))
            {
                Assert.Fail($"{what} did not return within {seconds} s (hung)");
            }
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }

        return task.Result;
    }

    internal static void Within(double seconds, string what, Action action) =>
        Within(seconds, what, () =>
        {
            action();
            return 0;
        });

    /// <summary>Destroys a test's store whatever state it is in; never throws (cleanup after a failure).</summary>
    internal static void DestroyQuietly(string storeName, MemStore? store)
    {
        try
        {
            store?.Dispose();
        }
        catch (MemStoreException)
        {
        }

        try
        {
            MemStore.DestroyStore(storeName);
        }
        catch (MemStoreException)
        {
        }
    }

    /// <summary>Segments still present that one of these processes created since <paramref name="since"/>: a leak once
    /// the store is destroyed. The time matters: pids wrap quickly on a busy machine, and an older segment of
    /// someone else may name a reused pid as its creator.</summary>
    internal static List<ShmEntry> SegmentsCreatedBy(IEnumerable<int> pids, DateTimeOffset since)
    {
        var set = pids.ToHashSet();
        var from = since.ToUnixTimeSeconds() - 1;
        return SysVTestNative.ListSegments().Where(s => set.Contains(s.CreatorPid) && s.ChangeTime >= from).ToList();
    }

    /// <summary>Segments still present at any key the store could have used: its anchor probes and the arena keys
    /// of every generation up to <paramref name="generation"/> (a recycled spare keeps the key it was created with).</summary>
    internal static List<ShmEntry> SegmentsAtStoreKeys(string storeName, long generation)
    {
        var uid = SysVTestNative.GetEuid();
        var keys = new HashSet<int>();
        for (var probe = 0; probe < KeyDerivation.AnchorProbes; probe++)
        {
            var anchorKey = KeyDerivation.AnchorKey(uid, storeName, probe);
            keys.Add(anchorKey);
            for (var g = 0L; g <= generation + KeyDerivation.ArenaProbes; g++)
            {
                keys.Add(KeyDerivation.ArenaKey(anchorKey, (uint)g));
            }
        }

        return SysVTestNative.ListSegments().Where(s => keys.Contains(s.Key)).ToList();
    }

    /// <summary>POSIX arena objects (Linux: files in /dev/shm, names with their leading '/') of any anchor key the store
    /// could have used: its arenas when its backing is POSIX (the emulated-Mac pass, MEMALLOC_ARENA=posix).</summary>
    internal static List<string> ArenaObjectsAtStoreKeys(string storeName)
    {
        var uid = SysVTestNative.GetEuid();
        var names = new List<string>();
        for (var probe = 0; probe < KeyDerivation.AnchorProbes; probe++)
        {
            var anchorKey = (uint)KeyDerivation.AnchorKey(uid, storeName, probe);
            names.AddRange(Native.PosixSharedMemory.ListLinuxObjects(string.Create(Inv, $"{ArenaBackingChoice.PosixArenaPrefix}{anchorKey:x8}.")));
        }

        return names;
    }

    /// <summary>The store's generation for <see cref="AssertNothingLeft"/>, whatever state the store is in.</summary>
    internal static long GenerationOf(MemStore? store)
    {
        try
        {
            return store?.GetStatistics().Generation ?? 0;
        }
        catch (MemStoreException)
        {
            return 256;
        }
    }

    /// <summary>After DestroyStore: nothing of the store may remain (a leaked arena holds memory until reboot).</summary>
    internal static void AssertNothingLeft(string storeName, long generation)
    {
        var left = SegmentsAtStoreKeys(storeName, generation);
        Assert.True(left.Count == 0, $"segments of destroyed store {storeName} left behind: " + Describe(left));
        var objects = ArenaObjectsAtStoreKeys(storeName);
        Assert.True(objects.Count == 0, $"arena objects of destroyed store {storeName} left behind: " + string.Join(", ", objects));
    }

    internal static string Describe(IEnumerable<ShmEntry> segments)
    {
        var mappedHere = MappedShmIds();
        return string.Join("; ", segments.Select(s => $"shmid {s.Id} key 0x{s.Key:x8} size {s.Size} cpid {s.CreatorPid} lpid {s.LastPid} nattch {s.Attached}"
            + (mappedHere.Contains(s.Id) ? " (still mapped by this test process)" : string.Empty)));
    }

    /// <summary>shmids of the System V segments this process has mapped (/proc/self/maps: inode = shmid).</summary>
    internal static HashSet<int> MappedShmIds()
    {
        var ids = new HashSet<int>();
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 6 && f[5].StartsWith("/SYSV", StringComparison.Ordinal) && int.TryParse(f[4], NumberStyles.Integer, Inv, out var id))
            {
                ids.Add(id);
            }
        }

        return ids;
    }

    /// <summary>The first write after a kill succeeds well within <see cref="NextWriteBound"/>: the dead holder's lock was
    /// taken over at once, not after a timeout.</summary>
    internal static void AssertNextWriteIsPrompt(MemStore store)
    {
        var value = Payload.Create("probe", 0, Environment.TickCount64, 64);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        Within(60, "the first write after the kill", () => store.Set("probe", value));
        stopwatch.Stop();
        Assert.True(stopwatch.Elapsed < NextWriteBound,
            $"the first write after the kill took {stopwatch.Elapsed.TotalSeconds:0.0} s: stuck behind a lock timeout?");
        Assert.Equal(Payload.HashText(value), Payload.HashText(store.Get("probe")));
    }

    /// <summary>Verify, with a generous bound against a hang: the store must be sound.</summary>
    internal static void AssertValid(MemStore store)
    {
        var report = Within(60, "Verify", store.Verify);
        Assert.True(report.IsValid, "Verify: " + string.Join("\n", report.Problems));
    }

    /// <summary>A reader child (tests/Memalloc.TestHost "reader") saw nothing torn, regressed or wrong.</summary>
    internal static void AssertNoViolations(TestHostProcess reader)
    {
        var bad = reader.Lines.Where(l => l.StartsWith("TORN", StringComparison.Ordinal)
            || l.StartsWith("REGRESS", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal)).ToList();
        Assert.True(bad.Count == 0, "reader saw: " + string.Join("\n", bad.Take(20)));
    }

    internal static string[] Fields(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>
/// Segments a test created or planted, removed at the end if they still exist under the same key (a removed
/// id can be reused by someone else's segment, whose key then differs). Only ever touches what it recorded.
/// </summary>
internal sealed class SegmentJanitor : IDisposable
{
    private readonly List<(int Id, int Key)> _segments = new();

    internal void Track(int shmid)
    {
        var entry = SysVTestNative.FindById(shmid);
        if (entry is not null)
        {
            _segments.Add((shmid, entry.Value.Key));
        }
    }

    internal void TrackStore(MemStore store)
    {
        foreach (var id in store.GetStatistics().SegmentIds)
        {
            Track(id);
        }
    }

    public void Dispose()
    {
        foreach (var (id, key) in _segments)
        {
            var entry = SysVTestNative.FindById(id);
            if (entry is not null && entry.Value.Key == key)
            {
                _ = SysVTestNative.Remove(id);
            }
        }
    }
}

/// <summary>
/// What a set of names must hold, built from writers' BEGIN/ACK lines. After a writer is killed each name must
/// hold exactly its last acknowledged state, or, for the one operation in flight, the state that operation
/// produces (committed but not yet acknowledged). Every value read must be a genuine payload for its name.
/// </summary>
internal sealed class AckLedger
{
    private readonly Dictionary<string, (string? Hash, long Version)> _expected = new(StringComparer.Ordinal);

    internal AckLedger(string prefix, int names)
    {
        Names = Enumerable.Range(0, names).Select(i => prefix + i.ToString(ProcessTestSupport.Inv)).ToArray();
        foreach (var name in Names)
        {
            _expected[name] = (null, 0);
        }
    }

    internal string[] Names { get; }

    internal long Acks { get; private set; }

    /// <summary>Applies a writer's transcript; returns the operation that was begun but not acknowledged.</summary>
    internal InFlight? Apply(IReadOnlyList<string> lines)
    {
        InFlight? inFlight = null;
        foreach (var line in lines)
        {
            var f = ProcessTestSupport.Fields(line);
            switch (f[0])
            {
                case "BEGIN" when f[1] == "SET":
                    inFlight = new InFlight(f[2], f[4]);
                    break;
                case "BEGIN" when f[1] == "DEL":
                    inFlight = new InFlight(f[2], null);
                    break;
                case "ACK" when f[1] == "SET":
                    _expected[f[2]] = (f[5], long.Parse(f[4], ProcessTestSupport.Inv));
                    inFlight = null;
                    Acks++;
                    break;
                case "ACK" when f[1] == "DEL":
                    _expected[f[2]] = (null, 0);
                    inFlight = null;
                    Acks++;
                    break;
            }
        }

        return inFlight;
    }

    /// <summary>Reads every name, returns what breaks the rule above, and adopts what was read as the new
    /// expectation (the in-flight operation either happened or did not; both are allowed).</summary>
    internal List<string> CheckAndAdopt(MemStore store, InFlight? inFlight)
    {
        var failures = new List<string>();
        foreach (var name in Names)
        {
            StackEntry? entry;
            try
            {
                store.TryGet(name, out entry);
            }
            catch (MemStoreException e)
            {
                failures.Add($"{name}: read threw {e.Kind}: {e.Message}");
                continue;
            }

            string? actual = null;
            if (entry is not null)
            {
                var problem = Payload.Check(name, entry.Data, out _, out _);
                if (problem is not null)
                {
                    failures.Add($"{name}: not a genuine value: {problem}");
                    continue;
                }

                actual = Payload.HashText(entry.Data);
            }

            var (expectedHash, expectedVersion) = _expected[name];
            if (actual == expectedHash)
            {
                if (entry is not null && expectedVersion != 0 && entry.Info.Version != expectedVersion)
                {
                    failures.Add($"{name}: acknowledged version {expectedVersion} but the record says {entry.Info.Version}");
                }
            }
            else if (!(inFlight is { } op && op.Name == name && op.Hash == actual))
            {
                failures.Add($"{name}: holds {actual ?? "nothing"} but the last acknowledged state is {expectedHash ?? "absent"}"
                    + (inFlight is { } f && f.Name == name ? $" and the write in flight was {f.Hash ?? "a removal"}" : string.Empty));
            }

            _expected[name] = (actual, entry?.Info.Version ?? 0);
        }

        return failures;
    }
}

internal readonly record struct InFlight(string Name, string? Hash);
