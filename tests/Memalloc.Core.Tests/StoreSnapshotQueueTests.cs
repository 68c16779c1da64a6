using System;
using System.IO;
using System.Linq;
using System.Runtime.Versioning;
using System.Text;
using Memalloc.Core;
using Memalloc.Core.Snapshots;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>The store's side of queues in snapshots: a queue is copied with its items at the instant of the stacks, and
/// restored with its items in order; held locks never are.</summary>
[UnsupportedOSPlatform("windows")]
public class StoreSnapshotQueueTests
{
    private static string[] Texts(System.Collections.Generic.IReadOnlyList<QueueItem> items) => items.Select(i => Encoding.UTF8.GetString(i.Data)).ToArray();

    /// <summary>Defect: issue 13 and 14 landed apart, and an export of a store holding queues wrote its stacks only,
    /// silently (a first fix had only stopped the export from failing on them). Now the queue comes back with its
    /// items; the held lock does not.</summary>
    [Fact]
    public void A_store_with_queues_and_locks_exports_its_queues_with_their_items_and_never_its_locks()
    {
        using var source = new TestStore();
        using var target = new TestStore();
        using var folder = new SnapshotFolder();
        source.Store.Set("a", [1]);
        foreach (var item in new[] { "one", "two", "three", "four" })
        {
            source.Store.Send("q", Encoding.UTF8.GetBytes(item), "System.String");
        }

        Assert.Equal(["one"], Texts(source.Store.Receive("q", 1))); // items numbered from above the queue's first
        source.Store.Send("drained", "x"u8);
        source.Store.Receive("drained", 1);
        using var held = source.Store.AcquireLock("L", 1, TimeSpan.Zero);
        var before = source.Store.GetInfo("q")!;

        var outcomes = StoreSnapshotTests.ExportAndRestore(source.Store, target.Store, folder.File("q.snap"));

        Assert.Equal([RestoreOutcome.Written, RestoreOutcome.Written, RestoreOutcome.Written], outcomes);
        Assert.Equal(["a", "drained", "q"], target.Store.ListNames());
        Assert.Empty(target.Store.ListLocks());
        var after = target.Store.GetInfo("q")!;
        Assert.Equal(StackKind.Queue, after.Kind);
        Assert.Equal((before.Count, before.Size, before.Created, before.Modified), (after.Count, after.Size, after.Created, after.Modified));
        Assert.Equal(0, target.Store.GetInfo("drained")!.Count);
        var received = target.Store.Receive("q", 10);
        Assert.Equal(["two", "three", "four"], Texts(received));
        Assert.All(received, i => Assert.Equal("System.String", i.TypeName));
        Assert.Empty(target.Store.Receive("q", 10));
        Assert.True(target.Store.Verify().IsValid);
    }

    [Fact]
    public void A_snapshot_copies_a_queue_at_the_instant_of_the_stacks_and_leaves_the_store_as_it_was()
    {
        using var t = new TestStore();
        t.Store.Send("q", "1"u8);
        t.Store.Set("s", [1]);
        using var snapshot = t.Store.TakeSnapshot();
        t.Store.Send("q", "2"u8); // after the instant: not in the copy
        Assert.Equal(["q", "s"], Enumerable.Range(0, snapshot.Count).Select(snapshot.NameAt));
        Assert.True(snapshot.IsQueue(0));
        Assert.Equal(1, snapshot.QueueCount);
        Assert.Equal(1, snapshot.GetQueue(0).ItemCount);
        Assert.Equal("1"u8.ToArray(), snapshot.GetQueueItem(0, 0).Value.ToArray());
        Assert.Throws<InvalidOperationException>(() => snapshot.Get(0));
        Assert.Throws<InvalidOperationException>(() => snapshot.GetQueue(1));
        Assert.Equal(["1", "2"], Texts(t.Store.Receive("q", 10))); // the copy took nothing
    }

    [Fact]
    public void A_filter_chooses_queues_by_name_as_stacks()
    {
        using var t = new TestStore();
        t.Store.Send("job/q", "1"u8);
        t.Store.Send("other", "2"u8);
        using var snapshot = t.Store.TakeSnapshot(name => name.StartsWith("job/", StringComparison.Ordinal));
        Assert.Equal(["job/q"], Enumerable.Range(0, snapshot.Count).Select(snapshot.NameAt));
        Assert.Equal(1, snapshot.QueueItemCount);
    }

    [Fact]
    public void A_restored_queue_replaces_what_the_name_holds_and_no_clobber_keeps_it()
    {
        using var source = new TestStore();
        using var target = new TestStore();
        using var folder = new SnapshotFolder();
        source.Store.Send("q", "new"u8);
        source.Store.Set("was-queue", [7]);
        source.Store.Send("was-stack", "item"u8);
        var path = folder.File("r.snap");

        target.Store.Send("q", "old 1"u8);
        target.Store.Send("q", "old 2"u8);
        target.Store.Send("was-queue", "dropped"u8);
        target.Store.Set("was-stack", [1]);
        Assert.Equal([RestoreOutcome.Exists, RestoreOutcome.Exists, RestoreOutcome.Exists],
            StoreSnapshotTests.ExportAndRestore(source.Store, target.Store, path, noClobber: true));
        Assert.Equal(["old 1", "old 2"], Texts(target.Store.Receive("q", 10)));
        target.Store.Send("q", "old 3"u8);

        // Without -NoClobber the snapshot says what each name is: its queue's items replace the old ones (not appended
        // to them), and a stack and a queue replace each other.
        StoreSnapshotTests.ExportAndRestore(source.Store, target.Store, path);
        Assert.Equal(["new"], Texts(target.Store.Receive("q", 10)));
        Assert.Equal([7], target.Store.Get("was-queue"));
        Assert.Equal(["item"], Texts(target.Store.Receive("was-stack", 10)));
        Assert.True(target.Store.Verify().IsValid);
    }

    [Fact]
    public void A_store_that_fills_up_half_way_through_a_queue_keeps_the_items_written_oldest_first()
    {
        using var source = new TestStore();
        using var folder = new SnapshotFolder();
        for (var i = 0; i < 40; i++)
        {
            source.Store.Send("q", new byte[20 << 10]);
        }

        using var small = new TestStore(new MemStoreOptions { InitialCapacity = 64 << 10, MaxCapacity = 256 << 10 });
        var error = Assert.Throws<MemStoreException>(() => StoreSnapshotTests.ExportAndRestore(source.Store, small.Store, folder.File("big.snap")));
        Assert.Equal(MemStoreErrorKind.CapacityExceeded, error.Kind);
        var written = small.Store.GetInfo("q")!.Count;
        Assert.InRange(written, 1, 39);
        Assert.Equal(written, small.Store.Receive("q", 100).Count);
        Assert.True(small.Store.Verify().IsValid);
    }
}
