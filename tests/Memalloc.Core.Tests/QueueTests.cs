using System;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Memalloc.Core;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>Queues in one process: order, counts, the stack/queue namespace, the layout version, and the compactions
/// that may run between the publishes of a send or a receive (docs/coordination-design.md, "Queues").</summary>
public class QueueTests
{
    [Fact]
    public void Items_come_back_first_in_first_out_and_the_head_counts_them()
    {
        using var t = new TestStore();
        Assert.Empty(t.Store.Receive("q", 3));
        Assert.Equal(1, t.Store.Send("q", "a"u8, "System.String"));
        Assert.Equal(2, t.Store.Send("q", "bb"u8));
        Assert.Equal(3, t.Store.Send("q", "ccc"u8));
        var info = t.Store.GetInfo("q")!;
        Assert.Equal(StackKind.Queue, info.Kind);
        Assert.Equal(3, info.Count);
        Assert.Equal(6, info.Size);
        Assert.Null(info.TypeName);
        var first = t.Store.Receive("q", 2);
        Assert.Equal(["a", "bb"], first.Select(i => Encoding.UTF8.GetString(i.Data)));
        Assert.Equal("System.String", first[0].TypeName);
        Assert.Equal(1, t.Store.GetInfo("q")!.Count);
        Assert.Equal("ccc", Encoding.UTF8.GetString(Assert.Single(t.Store.Receive("q", 5)).Data));
        Assert.Equal(0, t.Store.GetInfo("q")!.Count);
        Assert.Equal(["q"], t.Store.ListNames()); // items are not listed
        Assert.Equal(1, t.Store.GetStatistics().Entries);
        Assert.True(t.Store.Verify().IsValid, string.Join("\n", t.Store.Verify().Problems));
    }

    [Fact]
    public void A_name_is_a_stack_or_a_queue_and_the_other_kind_changes_nothing()
    {
        using var t = new TestStore();
        t.Store.Set("s", "1"u8);
        t.Store.Send("q", "x"u8);
        Assert.Equal(MemStoreErrorKind.NameIsStack, Assert.Throws<MemStoreException>(() => t.Store.Send("s", "y"u8)).Kind);
        Assert.Equal(MemStoreErrorKind.NameIsStack, Assert.Throws<MemStoreException>(() => t.Store.Receive("s", 1)).Kind);
        Assert.Equal(MemStoreErrorKind.NameIsQueue, Assert.Throws<MemStoreException>(() => t.Store.Set("q", "y"u8)).Kind);
        Assert.Equal(MemStoreErrorKind.NameIsQueue, Assert.Throws<MemStoreException>(() => t.Store.Get("q")).Kind);
        Assert.Equal("1", Encoding.UTF8.GetString(t.Store.Get("s")!));
        Assert.Equal("x", Encoding.UTF8.GetString(Assert.Single(t.Store.Receive("q", 1)).Data));
        Assert.True(t.Store.Remove("q"));
        t.Store.Set("q", "now a stack"u8);
        Assert.Equal(StackKind.Stack, t.Store.GetInfo("q")!.Kind);
        Assert.True(t.Store.Verify().IsValid);
    }

    [Fact]
    public void A_store_takes_layout_version_2_with_its_first_coordination_record()
    {
        using var t = new TestStore();
        t.Store.Set("s", "1"u8);
        Assert.Equal(1u, AnchorVersion(t.Store));
        t.Store.Send("q", "x"u8);
        Assert.Equal(2u, AnchorVersion(t.Store));
        Assert.True(t.Store.Verify().IsValid);
    }

    /// <summary>The item of a send is published before its head; a compaction that runs when the head is written must
    /// keep that item (numbered <c>next</c>, outside the old head's range), or the committed head names a missing item.</summary>
    [Fact]
    public void Compaction_between_a_sends_item_and_its_head_keeps_the_item()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024 });
        t.Store.Send("q", "first"u8);
        var item = new byte[1000];
        var itemRecord = Layout.RecordSize(CoordinationRecords.ItemNameLength, 0, item.Length);
        var headRecord = Layout.RecordSize(1, 0, QueueHead.Size);
        var free = Free(t.Store);
        // Leave room for the item and not for the head's new copy.
        var filler = free - itemRecord - headRecord + 8 - Layout.RecordSize(1, 0, 0);
        Assert.True(filler > 0);
        t.Store.Set("f", new byte[filler]);
        Assert.Equal(itemRecord + headRecord - 8, Free(t.Store));
        t.Store.Send("q", item);
        Assert.True(t.Store.Verify().IsValid, string.Join("\n", t.Store.Verify().Problems));
        Assert.Equal([5, 1000], t.Store.Receive("q", 5).Select(i => i.Data.Length));
    }

    [Fact]
    public void A_removed_queues_items_are_dropped_and_a_new_queue_of_its_name_starts_empty()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024 });
        for (var i = 0; i < 5; i++)
        {
            t.Store.Send("q", new byte[100]);
        }

        Assert.True(t.Store.Remove("q"));
        t.Store.Send("q", "new"u8);
        for (var i = 0; i < 200; i++)
        {
            t.Store.Set("churn", new byte[2000]); // compacts several times
        }

        Assert.True(t.Store.Verify().IsValid, string.Join("\n", t.Store.Verify().Problems));
        Assert.Equal("new", Encoding.UTF8.GetString(Assert.Single(t.Store.Receive("q", 10)).Data));
    }

    [Fact]
    public void A_hundred_thousand_items_are_sent_and_received_in_order()
    {
        using var t = new TestStore();
        for (var i = 0; i < 100_000; i++)
        {
            t.Store.Send("big", BitConverter.GetBytes(i));
        }

        Assert.Equal(100_000, t.Store.GetInfo("big")!.Count);
        var next = 0;
        while (t.Store.Receive("big", 1000) is { Count: > 0 } items)
        {
            foreach (var item in items)
            {
                Assert.Equal(next++, BitConverter.ToInt32(item.Data));
            }
        }

        Assert.Equal(100_000, next);
        Assert.True(t.Store.Verify().IsValid);
    }

    private static uint AnchorVersion(MemStore store)
    {
        uint version = 0;
        store.WithAnchor(address => version = (uint)Marshal.ReadInt32(address + Layout.AnchorVersionOffset));
        return version;
    }

    private static long Free(MemStore store)
    {
        long free = 0;
        store.WithArena((address, capacity) => free = capacity - Marshal.ReadInt64(address + Layout.ArenaBumpOffset));
        return free;
    }
}
