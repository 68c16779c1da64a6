using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Versioning;
using System.Text;
using System.Threading;
using Memalloc.Core;
using Memalloc.Core.Snapshots;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>The store's side of snapshots: a consistent copy of its live records, and restoring records through the
/// normal write.</summary>
[UnsupportedOSPlatform("windows")]
public class StoreSnapshotTests
{
    private static WriteOptions CliXml(string typeName, TimeSpan? timeToLive = null) =>
        new() { Encoding = ValueEncoding.CliXml, TypeName = typeName, TimeToLive = timeToLive };

    private static void Set(MemStore store, string name, string value, in WriteOptions options) =>
        store.TrySet(name, Encoding.UTF8.GetBytes(value), options, out _);

    /// <summary>Exports <paramref name="store"/> through a file and restores it into <paramref name="target"/>.</summary>
    private static List<RestoreOutcome> ExportAndRestore(MemStore store, MemStore target, string path, bool noClobber = false)
    {
        using (var snapshot = store.TakeSnapshot())
        using (var writer = SnapshotFileWriter.Create(path, store.Name, snapshot.TakenAt, SnapshotOverwrite.Replace))
        {
            for (var i = 0; i < snapshot.Count; i++)
            {
                writer.WriteStack(snapshot.Get(i));
            }

            writer.Commit();
        }

        var outcomes = new List<RestoreOutcome>();
        using var reader = SnapshotFileReader.Open(path);
        reader.Verify();
        while (reader.ReadStack(out var stack))
        {
            outcomes.Add(target.Restore(stack, noClobber, out _));
        }

        return outcomes;
    }

    [Fact]
    public void A_snapshot_holds_the_live_stacks_in_name_order_with_their_records()
    {
        using var t = new TestStore();
        Set(t.Store, "b", "<b/>", CliXml("T.B"));
        Set(t.Store, "a", "<a/>", CliXml("T.A", TimeSpan.FromHours(1)));
        t.Store.Set("raw", [1, 2, 3]);
        Set(t.Store, "gone", "<g/>", CliXml("T.G", TimeSpan.FromMilliseconds(1)));
        Thread.Sleep(20);
        using var snapshot = t.Store.TakeSnapshot();
        Assert.Equal(t.StoreName, snapshot.StoreName);
        Assert.Equal(["a", "b", "raw"], Enumerable.Range(0, snapshot.Count).Select(snapshot.NameAt));
        foreach (var i in Enumerable.Range(0, snapshot.Count))
        {
            var stack = snapshot.Get(i);
            var info = t.Store.GetInfo(stack.NameText)!;
            Assert.Equal(t.Store.Get(stack.NameText), stack.Value.ToArray());
            Assert.Equal(info.TypeName, stack.TypeNameText);
            Assert.Equal(info.Encoding, stack.Encoding);
            Assert.Equal(new DateTimeOffset(info.Created).ToUnixTimeMilliseconds(), stack.CreatedMs);
            Assert.Equal(new DateTimeOffset(info.Modified).ToUnixTimeMilliseconds(), stack.ModifiedMs);
            Assert.Equal(info.Expires is { } e ? new DateTimeOffset(e).ToUnixTimeMilliseconds() : 0, stack.ExpiresMs);
        }
    }

    /// <summary>Issue 13 and 14 landed apart: a store holding a queue (its head and items) and a held lock made the export
    /// fail ("Unknown value encoding 2"). A snapshot holds stacks only, until snapshots learn the coordination records.</summary>
    [Fact]
    public void A_store_with_queues_and_locks_exports_its_stacks_only()
    {
        using var t = new TestStore();
        using var target = new TestStore();
        Set(t.Store, "a", "<a/>", CliXml("T.A"));
        t.Store.Send("q", "item"u8);
        using var held = t.Store.AcquireLock("L", 1, TimeSpan.Zero);
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "memalloc-" + Guid.NewGuid().ToString("N") + ".snapshot");
        try
        {
            Assert.Equal([RestoreOutcome.Written], ExportAndRestore(t.Store, target.Store, path));
            Assert.Equal(["a"], target.Store.ListNames());
            Assert.Empty(target.Store.ListLocks());
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public void A_snapshot_orders_names_by_their_bytes_within_and_past_the_sort_key()
    {
        // The sort compares a 16-byte prefix first: names that share it, names shorter than it, prefixes of each other
        // and multi-byte characters must still come in the ordinal order of their UTF-8 bytes.
        using var t = new TestStore();
        var random = new Random(14);
        var names = new HashSet<string> { "a", "a ", "a!", "b", "\u00e9", "\u65e5\u672c", "zzzzzzzzzzzzzzzz", "zzzzzzzzzzzzzzz", "zzzzzzzzzzzzzzzzz" };
        string[] stems = ["", "job/", "shared-prefix-longer-than-16/", "\u00e9t\u00e9/"];
        while (names.Count < 2000)
        {
            var tail = new string(Enumerable.Range(0, random.Next(0, 24)).Select(_ => (char)random.Next(0x20, 0x7F)).ToArray());
            names.Add(stems[random.Next(stems.Length)] + tail);
        }

        names.RemoveWhere(n => n.Length == 0);
        foreach (var name in names)
        {
            t.Store.Set(name, [1]);
        }

        using var snapshot = t.Store.TakeSnapshot();
        var expected = names.Select(Encoding.UTF8.GetBytes).OrderBy(b => b, Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y))).Select(Encoding.UTF8.GetString);
        Assert.Equal(expected, Enumerable.Range(0, snapshot.Count).Select(snapshot.NameAt));
    }

    [Fact]
    public void A_snapshot_takes_only_the_names_the_filter_accepts()
    {
        using var t = new TestStore();
        foreach (var name in new[] { "job/1", "job/2", "other" })
        {
            t.Store.Set(name, [1]);
        }

        using var snapshot = t.Store.TakeSnapshot(name => name.StartsWith("job/", StringComparison.Ordinal));
        Assert.Equal(["job/1", "job/2"], Enumerable.Range(0, snapshot.Count).Select(snapshot.NameAt));
    }

    [Fact]
    public void A_snapshot_taken_while_a_writer_runs_holds_one_instant()
    {
        // The writer writes x0..x15 = i, then y0..y15 = i: at every instant each pair has x = y or x = y + 1. A copy
        // that mixed moments holds a pair from two moments (its y newer than its x, or older by two or more): with 16
        // pairs at random places in the index, some pair is far apart in any walk. Many other stacks make the walk long.
        const int Pairs = 16;
        using var t = new TestStore();
        for (var i = 0; i < 20000; i++)
        {
            t.Store.Set($"filler/{i}", new byte[16]);
        }

        using var stop = new CancellationTokenSource();
        long written = 0;
        var writer = new Thread(() =>
        {
            for (long i = 1; !stop.IsCancellationRequested; i++)
            {
                for (var k = 0; k < Pairs; k++)
                {
                    t.Store.Set($"x{k:d2}", BitConverter.GetBytes(i));
                }

                for (var k = 0; k < Pairs; k++)
                {
                    t.Store.Set($"y{k:d2}", BitConverter.GetBytes(i));
                }

                Volatile.Write(ref written, i);
            }
        });
        writer.Start();
        try
        {
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref written) > 10, TimeSpan.FromSeconds(30)));
            var progressed = false;
            for (var round = 0; round < 30; round++)
            {
                var before = Volatile.Read(ref written);
                using var snapshot = t.Store.TakeSnapshot(); // no filter: a walk that allocates nothing, so the writer runs throughout
                progressed |= Volatile.Read(ref written) > before + 1;
                Assert.Equal(20000 + (2 * Pairs), snapshot.Count);
                for (var k = 0; k < Pairs; k++)
                {
                    // Names ascend: every "filler/..." first, then x00..x15, then y00..y15.
                    var x = BitConverter.ToInt64(snapshot.Get(20000 + k).Value);
                    var y = BitConverter.ToInt64(snapshot.Get(20000 + Pairs + k).Value);
                    Assert.True(x - y is 0 or 1, $"round {round}, pair {k}: x {x}, y {y}");
                }
            }

            Assert.True(progressed, "the writer must have written while a snapshot was taken");
        }
        finally
        {
            stop.Cancel();
            writer.Join();
        }
    }

    [Fact]
    public void A_corrupt_record_is_reported_and_never_exported()
    {
        using var t = new TestStore();
        t.Store.Set("a", Encoding.UTF8.GetBytes("intact value"));
        t.Store.WithArena(static (address, capacity) =>
        {
            unsafe
            {
                var bytes = new Span<byte>((byte*)address, (int)capacity);
                bytes[bytes.IndexOf("intact value"u8)] ^= 1;
            }
        });
        using var snapshot = t.Store.TakeSnapshot();
        var error = Assert.Throws<MemStoreException>(() => snapshot.Get(0));
        Assert.Equal(MemStoreErrorKind.Corrupt, error.Kind);
        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Restore_gives_back_values_types_times_and_expiry_with_new_versions()
    {
        using var source = new TestStore();
        using var target = new TestStore();
        using var folder = new SnapshotFolder();
        Set(source.Store, "a", "<Objs>a</Objs>", CliXml("System.String"));
        Set(source.Store, "e", "<Objs>e</Objs>", CliXml("System.Int32", TimeSpan.FromHours(2)));
        source.Store.Set("raw", [9, 8, 7]);
        Thread.Sleep(5);
        var before = target.Store.Set("a", [0]);
        Assert.Equal([RestoreOutcome.Written, RestoreOutcome.Written, RestoreOutcome.Written], ExportAndRestore(source.Store, target.Store, folder.File("s.snap")));
        foreach (var name in new[] { "a", "e", "raw" })
        {
            var was = source.Store.GetInfo(name)!;
            var now = target.Store.GetInfo(name)!;
            Assert.Equal(source.Store.Get(name), target.Store.Get(name));
            Assert.Equal(was.TypeName, now.TypeName);
            Assert.Equal(was.Encoding, now.Encoding);
            Assert.Equal(was.Created, now.Created);
            Assert.Equal(was.Modified, now.Modified);
            Assert.Equal(was.Expires, now.Expires);
            Assert.True(now.Version > before, "a restored stack is a new version of its store");
        }

        Assert.True(target.Store.Verify().IsValid);
    }

    [Fact]
    public void Export_and_import_of_a_big_store_allocate_no_managed_memory_in_proportion_to_it()
    {
        // 64 MiB of values. Buffering the store, the file or the values in managed memory would allocate at least that
        // much; streaming allocates its fixed buffers (1 MiB each), one value's buffer and a few bytes per stack.
        const int Stacks = 1024;
        const int ValueSize = 64 << 10;
        using var source = new TestStore();
        using var target = new TestStore();
        using var folder = new SnapshotFolder();
        var value = new byte[ValueSize];
        for (var i = 0; i < Stacks; i++)
        {
            value[0] = (byte)i;
            source.Store.Set($"big/{i:d4}", value);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var outcomes = ExportAndRestore(source.Store, target.Store, folder.File("big.snap"));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(Stacks, outcomes.Count(o => o == RestoreOutcome.Written));
        Assert.Equal(source.Store.Get("big/1023"), target.Store.Get("big/1023"));
        Assert.True(allocated < 8 << 20, $"export and import of a {(Stacks * (long)ValueSize) >> 20} MiB store allocated {allocated >> 20} MiB of managed memory");
    }

    [Fact]
    public void Restore_with_noClobber_keeps_an_existing_stack()
    {
        using var source = new TestStore();
        using var target = new TestStore();
        using var folder = new SnapshotFolder();
        source.Store.Set("a", [1]);
        source.Store.Set("b", [2]);
        target.Store.Set("a", [42]);
        Assert.Equal([RestoreOutcome.Exists, RestoreOutcome.Written], ExportAndRestore(source.Store, target.Store, folder.File("s.snap"), noClobber: true));
        Assert.Equal([42], target.Store.Get("a"));
        Assert.Equal([2], target.Store.Get("b"));
    }

    [Fact]
    public void Restore_skips_a_stack_whose_expiry_has_passed()
    {
        using var target = new TestStore();
        var past = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1;
        var stack = new SnapshotStack("old"u8, default, [1], ValueEncoding.Raw, past - 10, past - 10, past);
        Assert.Equal(RestoreOutcome.Expired, target.Store.Restore(stack, noClobber: false, out var version));
        Assert.Equal(0, version);
        Assert.False(target.Store.Exists("old"));
    }

    [Fact]
    public void Restore_into_a_full_store_fails_whole_and_leaves_the_old_value()
    {
        using var target = new TestStore(new MemStoreOptions { InitialCapacity = 64 << 10, MaxCapacity = 128 << 10 });
        target.Store.Set("big", [1]);
        var error = Assert.Throws<MemStoreException>(() =>
            target.Store.Restore(new SnapshotStack("big"u8, default, new byte[200 << 10], ValueEncoding.Raw, 1, 2, 0), noClobber: false, out _));
        Assert.Equal(MemStoreErrorKind.CapacityExceeded, error.Kind);
        Assert.Equal([1], target.Store.Get("big"));
        Assert.True(target.Store.Verify().IsValid);
    }

    [Fact]
    public void Restore_refuses_a_name_the_store_would_refuse()
    {
        using var target = new TestStore();
        var error = Assert.Throws<MemStoreException>(() => target.Store.Restore(new SnapshotStack("a\nb"u8, default, [1], ValueEncoding.Raw, 1, 2, 0), false, out _));
        Assert.Equal(MemStoreErrorKind.InvalidName, error.Kind);
    }
}
