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

/// <summary>The snapshot file format: what the writer writes is what the reader reads, byte for byte and field for field.</summary>
[UnsupportedOSPlatform("windows")]
public class SnapshotFileTests
{
    private static readonly TestStack[] s_sample =
    [
        new("a", "<Objs/>"u8.ToArray(), "System.String"),
        new("empty value", [], null, ValueEncoding.Raw),
        new("expires", [1, 2, 3], "System.Int32", ValueEncoding.CliXml, 1_600_000_000_000, 1_700_000_000_000, 1_900_000_000_000),
        new("ünïcödé ✓ 𝄞", Encoding.UTF8.GetBytes("value ✓"), "Deserialized.Some.Type"),
        new(new string('n', 255), new byte[3 << 20], new string('T', 4096)), // spans several 1 MiB blocks
    ];

    [Fact]
    public void Stacks_round_trip_with_every_field()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("round.snap");
        Random.Shared.NextBytes(s_sample[4].Value);
        SnapshotFolder.Write(path, s_sample);
        var back = SnapshotFolder.Read(path);
        var expected = s_sample.OrderBy(s => Encoding.UTF8.GetBytes(s.Name), ByteOrder.Instance).ToList();
        Assert.Equal(expected.Count, back.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Name, back[i].Name);
            Assert.Equal(expected[i].Value, back[i].Value);
            Assert.Equal(expected[i].TypeName, back[i].TypeName);
            Assert.Equal(expected[i].Encoding, back[i].Encoding);
            Assert.Equal(expected[i].CreatedMs, back[i].CreatedMs);
            Assert.Equal(expected[i].ModifiedMs, back[i].ModifiedMs);
            Assert.Equal(expected[i].ExpiresMs, back[i].ExpiresMs);
        }
    }

    [Fact]
    public void Header_names_the_store_and_the_instant_and_the_contents_are_counted()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("h.snap");
        SnapshotFolder.Write(path, s_sample[..3], storeName: "my.store-1");
        using var reader = SnapshotFileReader.Open(path);
        Assert.Equal("my.store-1", reader.StoreName);
        Assert.Equal(new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc), reader.TakenAt);
        Assert.Equal(new FileInfo(path).Length, reader.Length);
        var contents = reader.Verify();
        Assert.Equal(3, contents.Stacks);
        Assert.Equal(s_sample[..3].Sum(s => (long)s.Value.Length), contents.ValueBytes);
        Assert.Equal(0, contents.SkippedRecords);
    }

    [Fact]
    public void Layout_matches_the_format_document()
    {
        // docs/snapshot-format.md, byte by byte: an independent reading of what the writer produced.
        using var folder = new SnapshotFolder();
        var path = folder.File("layout.snap");
        SnapshotFolder.Write(path, [new TestStack("k", [7, 8], "T", ValueEncoding.CliXml, 1, 2, 3)]);
        var file = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'M', (byte)'E', (byte)'M', (byte)'S', (byte)'N', (byte)'A', (byte)'P' }, file[..8]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8)));
        Assert.Equal(128, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(10)));
        Assert.Equal(file.Length - 128, BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(16)));
        Assert.Equal(System.IO.Hashing.XxHash3.HashToUInt64(file.AsSpan(128)), BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(24)));
        Assert.Equal("snaptest", Encoding.ASCII.GetString(file, 48, file[40]));
        Assert.Equal(System.IO.Hashing.XxHash3.HashToUInt64(file.AsSpan(0, 120)), BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(120)));
        var expectedContent = SnapshotFolder.Concat(SnapshotFolder.Record("k", [7, 8], typeName: "T", created: 1, modified: 2, expires: 3), SnapshotFolder.Trailer(1, 1, 2));
        Assert.Equal(expectedContent, file[128..]);
    }

    [Fact]
    public void An_empty_snapshot_is_valid()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("empty.snap");
        SnapshotFolder.Write(path, []);
        Assert.Equal(128 + 32, new FileInfo(path).Length);
        Assert.Empty(SnapshotFolder.Read(path));
    }

    [Fact]
    public void The_file_is_private_to_its_user()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("mode.snap");
        SnapshotFolder.Write(path, s_sample[..1]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Writer_refuses_names_out_of_order_rather_than_write_a_file_its_reader_refuses()
    {
        using var folder = new SnapshotFolder();
        using var writer = SnapshotFileWriter.Create(folder.File("order.snap"), "snaptest", DateTime.UtcNow, SnapshotOverwrite.Replace);
        writer.WriteStack(SnapshotFolder.Stack(new TestStack("b", [])));
        Assert.Throws<ArgumentException>(() => writer.WriteStack(SnapshotFolder.Stack(new TestStack("a", []))));
        Assert.Throws<ArgumentException>(() => writer.WriteStack(SnapshotFolder.Stack(new TestStack("b", []))));
    }

    [Fact]
    public void Unknown_record_kinds_are_skipped_and_counted()
    {
        // A newer version may add kinds (queues): an older reader steps over them by their length.
        using var folder = new SnapshotFolder();
        var path = folder.File("kinds.snap");
        var content = SnapshotFolder.Concat(
            SnapshotFolder.Record("a", [1]),
            SnapshotFolder.Record("whatever", [1, 2, 3, 4], kind: 9),
            SnapshotFolder.Record("b", [2]),
            SnapshotFolder.Trailer(3, 2, 2));
        File.WriteAllBytes(path, SnapshotFolder.Craft(content));
        using var reader = SnapshotFileReader.Open(path);
        var contents = reader.Verify();
        Assert.Equal(2, contents.Stacks);
        Assert.Equal(1, contents.SkippedRecords);
        Assert.Equal(new byte[] { 9 }, contents.SkippedKinds);
        Assert.True(reader.ReadNext(out var kind));
        Assert.Equal(SnapshotRecordKind.Stack, kind);
        Assert.Equal("a", reader.Stack.NameText);
        Assert.True(reader.ReadNext(out _));
        Assert.Equal("b", reader.Stack.NameText);
        Assert.False(reader.ReadNext(out _));
    }

    [Fact]
    public void Stacks_cannot_be_read_before_the_file_was_verified()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("v.snap");
        SnapshotFolder.Write(path, s_sample[..1]);
        using var reader = SnapshotFileReader.Open(path);
        Assert.Throws<InvalidOperationException>(() => reader.ReadNext(out _));
    }

    [Fact]
    public void Verify_reports_progress_up_to_the_whole_file()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("p.snap");
        SnapshotFolder.Write(path, [new TestStack("big", new byte[5 << 20])]);
        using var reader = SnapshotFileReader.Open(path);
        long last = 0;
        var calls = 0;
        reader.Progress = done =>
        {
            Assert.True(done > last);
            last = done;
            calls++;
        };
        reader.Verify();
        Assert.Equal(reader.Length, last);
        Assert.True(calls >= 5);
    }

    private sealed class ByteOrder : System.Collections.Generic.IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
