using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Runtime.Versioning;
using System.Text;
using Memalloc.Core;
using Memalloc.Core.Snapshots;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>Queue records (kind 2) of the snapshot format (docs/snapshot-format.md, "Queues"): what the writer writes is
/// what the reader reads, damaged or malformed ones are refused by the verifying pass, and an older reader steps over
/// them by their length.</summary>
[UnsupportedOSPlatform("windows")]
public class SnapshotQueueFileTests
{
    private static readonly TestQueue[] s_queues =
    [
        new("jobs", [new("System.Int32", "<I32>1</I32>"u8.ToArray()), new(null, []), new("System.String", Encoding.UTF8.GetBytes("zwei ✓"))]),
        new("empty", [], 1_600_000_000_000, 1_650_000_000_000),
        new("ünïcödé ✓", [new(new string('T', 4096), new byte[3 << 20])]), // spans several 1 MiB blocks
    ];

    private static readonly TestStack[] s_stacks = [new("a", [1]), new("jobz", [2]), new("zz", [3], "T")];

    [Fact]
    public void Queues_round_trip_with_every_item_in_order_between_stacks()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("queues.snap");
        Random.Shared.NextBytes(s_queues[2].Items[0].Value);
        SnapshotFolder.Write(path, s_stacks, queues: s_queues);
        var (stacks, queues) = SnapshotFolder.ReadAll(path);
        Assert.Equal(s_stacks.Select(s => s.Name), stacks.Select(s => s.Name));
        var expected = s_queues.OrderBy(q => Encoding.UTF8.GetBytes(q.Name), ByteOrder.Instance).ToList();
        Assert.Equal(expected.Count, queues.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Name, queues[i].Name);
            Assert.Equal(expected[i].CreatedMs, queues[i].CreatedMs);
            Assert.Equal(expected[i].ModifiedMs, queues[i].ModifiedMs);
            Assert.Equal(expected[i].Items.Length, queues[i].Items.Length);
            for (var j = 0; j < expected[i].Items.Length; j++)
            {
                Assert.Equal(expected[i].Items[j].TypeName, queues[i].Items[j].TypeName);
                Assert.Equal(expected[i].Items[j].Value, queues[i].Items[j].Value);
            }
        }

        using var reader = SnapshotFileReader.Open(path);
        var contents = reader.Verify();
        Assert.Equal(3, contents.Stacks);
        Assert.Equal(3, contents.Queues);
        Assert.Equal(4, contents.QueueItems);
        Assert.Equal(s_queues.Sum(q => q.Items.Sum(i => (long)i.Value.Length)), contents.QueueItemBytes);
        Assert.Equal(0, contents.SkippedRecords);
    }

    [Fact]
    public void Layout_of_a_queue_record_matches_the_format_document()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("layout.snap");
        var queue = new TestQueue("q", [new("T", [7, 8]), new(null, [9])], 1, 2);
        SnapshotFolder.Write(path, [new TestStack("a", [5], CreatedMs: 1, ModifiedMs: 2)], queues: [queue]);
        var expected = SnapshotFolder.Concat(
            SnapshotFolder.Record("a", [5], created: 1, modified: 2),
            SnapshotFolder.QueueRecord("q", queue.Items, created: 1, modified: 2),
            SnapshotFolder.Trailer(records: 2, stacks: 1, valueBytes: 1)); // the trailer's value bytes are the stacks' own
        Assert.Equal(expected, File.ReadAllBytes(path)[128..]);
    }

    [Fact]
    public void A_file_with_queues_is_read_by_an_older_readers_rules_each_queue_stepped_over_by_its_length()
    {
        // Format version 1 readers before queues skip kinds they do not know by the envelope's length: kind 2 made
        // unknown (9) must leave the stacks around it readable, and be counted as skipped.
        using var folder = new SnapshotFolder();
        var path = folder.File("older.snap");
        var content = SnapshotFolder.Concat(
            SnapshotFolder.Record("a", [1]),
            SnapshotFolder.QueueRecord("m", s_queues[0].Items, kind: 9),
            SnapshotFolder.Record("z", [2]),
            SnapshotFolder.Trailer(3, 2, 2));
        File.WriteAllBytes(path, SnapshotFolder.Craft(content));
        using var reader = SnapshotFileReader.Open(path);
        var contents = reader.Verify();
        Assert.Equal(1, contents.SkippedRecords);
        Assert.Equal(0, contents.Queues);
        Assert.Equal(["a", "z"], SnapshotFolder.Read(path).Select(s => s.Name));
    }

    [Fact]
    public void Items_a_caller_does_not_read_are_stepped_over()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("skip.snap");
        SnapshotFolder.Write(path, s_stacks, queues: s_queues);
        using var reader = SnapshotFileReader.Open(path);
        reader.Verify();
        var names = new System.Collections.Generic.List<string>();
        while (reader.ReadNext(out var kind))
        {
            names.Add(kind == SnapshotRecordKind.Queue ? "queue " + reader.Queue.NameText : reader.Stack.NameText);
            if (kind == SnapshotRecordKind.Queue && reader.Queue.ItemCount > 1)
            {
                Assert.True(reader.ReadQueueItem(out _)); // one of three, then on to the next record
            }
        }

        Assert.Equal(["a", "queue empty", "queue jobs", "jobz", "zz", "queue ünïcödé ✓"], names);
    }

    public static TheoryData<string, byte[]> MalformedQueues() => new()
    {
        // Each with a correct checksum: only a broken writer makes these, and the reason is reported.
        { "do not fill", SnapshotFolder.QueueRecord("q", [new(null, [1, 2])], payloadLengthOverride: 40 + 1 + 16 + 2 + 1) },
        { "impossible lengths", SnapshotFolder.QueueRecord("q", [new(null, [1, 2])], itemCountOverride: 5) },
        { "impossible lengths", SnapshotFolder.QueueRecord("q", [new(null, [1, 2])], itemBytesOverride: -1) },
        { "does not hold the items", SnapshotFolder.QueueRecord("q", [new("TT", [1, 2]), new(null, [3])], itemBytesOverride: 4) },
        { "does not hold the items", SnapshotFolder.QueueRecord("q", [new(null, [1, 2])], itemCountOverride: 0) },
        { "time outside", SnapshotFolder.QueueRecord("q", [], created: -1) },
        { "not valid UTF-8", Patched(SnapshotFolder.QueueRecord("q", [new("Tx", [1])]), 16 + 40 + 1 + 16, 0xFF) },
        { "out of order", SnapshotFolder.QueueRecord("a", []) }, // after stack "a": a name stacks and queues share
    };

    private static byte[] Patched(byte[] bytes, int offset, byte value)
    {
        bytes[offset] = value;
        return bytes;
    }

    [Theory]
    [MemberData(nameof(MalformedQueues))]
    public void A_malformed_queue_record_is_refused_with_its_reason(string reason, byte[] queue)
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("malformed.snap");
        var content = SnapshotFolder.Concat(SnapshotFolder.Record("a", [1]), queue, SnapshotFolder.Trailer(2, 1, 1));
        if (reason == "do not fill")
        {
            reason = "does not hold the items";
            content = SnapshotFolder.Concat(content[..^32], [0], content[^32..]); // the byte the length claims
        }

        File.WriteAllBytes(path, SnapshotFolder.Craft(content));
        var refusal = SnapshotFolder.Refusal(path);
        Assert.NotNull(refusal);
        Assert.Equal(MemStoreErrorKind.InvalidSnapshot, refusal.Kind);
        Assert.Contains(reason, refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_or_bit_flipped_queue_record_is_refused()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("damaged.snap");
        SnapshotFolder.Write(path, [new TestStack("a", [1])], queues: [s_queues[0]]);
        var whole = File.ReadAllBytes(path);
        var queueStart = 128 + SnapshotFolder.Record("a", [1]).Length;
        var damaged = folder.File("d.snap");
        for (var at = queueStart; at < whole.Length - 32; at++)
        {
            File.WriteAllBytes(damaged, whole[..at]);
            Assert.Equal(MemStoreErrorKind.InvalidSnapshot, SnapshotFolder.Refusal(damaged)?.Kind);
            var flipped = (byte[])whole.Clone();
            flipped[at] ^= (byte)(1 << (at % 8));
            File.WriteAllBytes(damaged, flipped);
            var refusal = SnapshotFolder.Refusal(damaged);
            Assert.Equal(MemStoreErrorKind.InvalidSnapshot, refusal?.Kind);
            Assert.Contains("damaged", refusal!.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Any_content_with_a_valid_checksum_is_read_or_refused_as_invalid_never_misread()
    {
        // What a broken or hostile writer could make: content with queue records mutated, its checksums made right
        // again. The reader must accept it whole (and then hand out exactly what it verified) or refuse it as an
        // invalid snapshot; any other exception (an index out of range, a huge allocation) is a defect.
        using var folder = new SnapshotFolder();
        var path = folder.File("base.snap");
        SnapshotFolder.Write(path, [new TestStack("a", [1, 2, 3]), new TestStack("zz", [4])], queues: [s_queues[0], s_queues[1]]);
        var content = File.ReadAllBytes(path)[128..];
        var random = new Random(2);
        var mutant = folder.File("mutant.snap");
        for (var round = 0; round < 3000; round++)
        {
            var bytes = (byte[])content.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                var at = random.Next(bytes.Length - 32); // the records; the trailer's counts are checked by their own tests
                bytes[at] = random.Next(3) switch { 0 => (byte)(bytes[at] ^ (1 << random.Next(8))), 1 => 0, _ => (byte)random.Next(256) };
            }

            File.WriteAllBytes(mutant, SnapshotFolder.Craft(bytes));
            try
            {
                var (stacks, queues) = SnapshotFolder.ReadAll(mutant);
                Assert.True(stacks.Count + queues.Count <= 4);
            }
            catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.InvalidSnapshot)
            {
            }
        }
    }

    [Fact]
    public void Writer_refuses_a_queue_whose_items_do_not_match_what_it_declared()
    {
        using var folder = new SnapshotFolder();
        using var writer = SnapshotFileWriter.Create(folder.File("w.snap"), "snaptest", DateTime.UtcNow, SnapshotOverwrite.Replace);
        var queue = new TestQueue("q", [new(null, [1]), new("T", [2, 3])]);
        writer.WriteQueue(SnapshotFolder.Queue(queue));
        writer.WriteQueueItem(SnapshotFolder.Item(queue.Items[0]));
        Assert.Throws<InvalidOperationException>(() => writer.WriteStack(SnapshotFolder.Stack(new TestStack("r", []))));
        Assert.Throws<InvalidOperationException>(writer.Commit);
        Assert.Throws<ArgumentException>(() => writer.WriteQueueItem(SnapshotFolder.Item(new TestItem("T", [2, 3, 4]))));
        writer.WriteQueueItem(SnapshotFolder.Item(queue.Items[1]));
        Assert.Throws<ArgumentException>(() => writer.WriteQueueItem(SnapshotFolder.Item(queue.Items[1])));
        Assert.Throws<ArgumentException>(() => writer.WriteStack(SnapshotFolder.Stack(new TestStack("q", [])))); // one name, once
        writer.WriteStack(SnapshotFolder.Stack(new TestStack("r", [])));
        writer.Commit();
    }

    private sealed class ByteOrder : System.Collections.Generic.IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
