using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Hashing;
using System.Linq;
using System.Text;
using Memalloc.Core;
using Memalloc.Core.Snapshots;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>A private folder for snapshot files, removed at the end; and ways to write, read and hand-craft snapshots.</summary>
internal sealed class SnapshotFolder : IDisposable
{
    public SnapshotFolder()
    {
        Path = Directory.CreateTempSubdirectory("memalloc-snapshot-tests-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Every file in the folder, hidden ones (temporary files) included.</summary>
    public string[] Entries() => Directory.GetFileSystemEntries(Path);

    public void Dispose()
    {
        foreach (var file in Directory.GetFiles(Path))
        {
            System.IO.File.SetAttributes(file, FileAttributes.Normal);
        }

        Directory.Delete(Path, recursive: true);
    }

    /// <summary>Makes a FIFO (mkfifo(1)): a file that is not a regular file, and that any user may make.</summary>
    public static string MakeFifo(string path)
    {
        Run("mkfifo", path);
        Assert.True(IsFifo(path));
        return path;
    }

    public static bool IsFifo(string path) => Run("test", "-p", path) == 0;

    private static int Run(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { UseShellExecute = false })!;
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Writes <paramref name="stacks"/> and <paramref name="queues"/> (sorted here by name) through the real writer.</summary>
    public static void Write(string path, IEnumerable<TestStack> stacks, string storeName = "snaptest", SnapshotOverwrite overwrite = SnapshotOverwrite.Replace,
        IEnumerable<TestQueue>? queues = null)
    {
        var sorted = new List<(string Name, TestStack? Stack, TestQueue? Queue)>();
        sorted.AddRange(stacks.Select(s => (s.Name, (TestStack?)s, (TestQueue?)null)));
        sorted.AddRange((queues ?? []).Select(q => (q.Name, (TestStack?)null, (TestQueue?)q)));
        sorted.Sort((a, b) => Encoding.UTF8.GetBytes(a.Name).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b.Name)));
        using var writer = SnapshotFileWriter.Create(path, storeName, new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc), overwrite);
        foreach (var (_, stack, queue) in sorted)
        {
            if (stack is not null)
            {
                writer.WriteStack(Stack(stack));
                continue;
            }

            writer.WriteQueue(Queue(queue!));
            foreach (var item in queue!.Items)
            {
                writer.WriteQueueItem(Item(item));
            }
        }

        writer.Commit();
    }

    public static SnapshotStack Stack(TestStack s) => new(Encoding.UTF8.GetBytes(s.Name),
        s.TypeName is null ? default : Encoding.UTF8.GetBytes(s.TypeName), s.Value, s.Encoding, s.CreatedMs, s.ModifiedMs, s.ExpiresMs);

    public static SnapshotQueue Queue(TestQueue q) => new(Encoding.UTF8.GetBytes(q.Name), q.CreatedMs, q.ModifiedMs, q.Items.Length,
        q.Items.Sum(i => (long)i.Value.Length), q.Items.Sum(i => (long)(i.TypeName is null ? 0 : Encoding.UTF8.GetByteCount(i.TypeName))));

    public static SnapshotQueueItem Item(TestItem i) => new(i.TypeName is null ? default : Encoding.UTF8.GetBytes(i.TypeName), i.Value);

    /// <summary>Verifies and reads back every stack (a file of stacks only).</summary>
    public static List<TestStack> Read(string path)
    {
        var (stacks, queues) = ReadAll(path);
        Assert.Empty(queues);
        return stacks;
    }

    /// <summary>Verifies and reads back every stack and every queue with its items.</summary>
    public static (List<TestStack> Stacks, List<TestQueue> Queues) ReadAll(string path)
    {
        using var reader = SnapshotFileReader.Open(path);
        reader.Verify();
        var stacks = new List<TestStack>();
        var queues = new List<TestQueue>();
        while (reader.ReadNext(out var kind))
        {
            if (kind == SnapshotRecordKind.Stack)
            {
                var s = reader.Stack;
                stacks.Add(new TestStack(s.NameText, s.Value.ToArray(), s.TypeNameText, s.Encoding, s.CreatedMs, s.ModifiedMs, s.ExpiresMs));
                continue;
            }

            var items = new List<TestItem>();
            while (reader.ReadQueueItem(out var item))
            {
                items.Add(new TestItem(item.TypeNameText, item.Value.ToArray()));
            }

            var q = reader.Queue;
            Assert.Equal(q.ItemCount, items.Count);
            queues.Add(new TestQueue(q.NameText, [.. items], q.CreatedMs, q.ModifiedMs));
        }

        return (stacks, queues);
    }

    /// <summary>Opens and verifies; returns the refusal (or null when the file is accepted).</summary>
    public static MemStoreException? Refusal(string path)
    {
        try
        {
            using var reader = SnapshotFileReader.Open(path);
            reader.Verify();
            return null;
        }
        catch (MemStoreException e)
        {
            return e;
        }
    }

    /// <summary>A file with a correct header (checksums included) around hand-made content: for malformed records that
    /// no damage explains, which only a broken writer could produce.</summary>
    public static byte[] Craft(byte[] content, string storeName = "snaptest")
    {
        var header = SnapshotFormat.BuildHeader(storeName, 1_700_000_000_000, content.Length, XxHash3.HashToUInt64(content));
        var file = new byte[header.Length + content.Length];
        header.CopyTo(file, 0);
        content.CopyTo(file, header.Length);
        return file;
    }

    /// <summary>Bytes of one stack record as the format describes it (docs/snapshot-format.md), built independently of the writer.</summary>
    public static byte[] Record(string name, byte[] value, byte kind = 1, byte encoding = 1, string? typeName = null, long created = 1_700_000_000_000,
        long modified = 1_700_000_000_000, long expires = 0, long? payloadLengthOverride = null)
    {
        var n = Encoding.UTF8.GetBytes(name);
        var t = typeName is null ? [] : Encoding.UTF8.GetBytes(typeName);
        var payload = 32 + n.Length + t.Length + value.Length;
        var record = new byte[16 + payload];
        record[0] = kind;
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(8), payloadLengthOverride ?? payload);
        record[16] = encoding;
        record[17] = (byte)n.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(18), (ushort)t.Length);
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(24), created);
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(32), modified);
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(40), expires);
        n.CopyTo(record, 48);
        t.CopyTo(record, 48 + n.Length);
        value.CopyTo(record, 48 + n.Length + t.Length);
        return record;
    }

    /// <summary>Bytes of one queue record as the format describes it, built independently of the writer; the overrides
    /// make malformed ones.</summary>
    public static byte[] QueueRecord(string name, TestItem[] items, long created = 1_700_000_000_000, long modified = 1_700_000_000_700,
        long? itemCountOverride = null, long? itemBytesOverride = null, long? payloadLengthOverride = null, byte kind = 2)
    {
        var n = Encoding.UTF8.GetBytes(name);
        var body = new MemoryStream();
        foreach (var item in items)
        {
            var t = item.TypeName is null ? [] : Encoding.UTF8.GetBytes(item.TypeName);
            var itemHead = new byte[16];
            BinaryPrimitives.WriteUInt16LittleEndian(itemHead, (ushort)t.Length);
            BinaryPrimitives.WriteInt64LittleEndian(itemHead.AsSpan(8), item.Value.Length);
            body.Write(itemHead);
            body.Write(t);
            body.Write(item.Value);
        }

        var payload = 40 + n.Length + body.Length;
        var record = new byte[16 + payload];
        record[0] = kind;
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(8), payloadLengthOverride ?? payload);
        record[16] = (byte)n.Length;
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(24), created);
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(32), modified);
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(40), itemCountOverride ?? items.Length);
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(48), itemBytesOverride ?? items.Sum(i => (long)i.Value.Length));
        n.CopyTo(record, 56);
        body.ToArray().CopyTo(record, 56 + n.Length);
        return record;
    }

    public static byte[] Trailer(long records, long stacks, long valueBytes)
    {
        var trailer = new byte[32];
        "MEMSNEND"u8.CopyTo(trailer);
        BinaryPrimitives.WriteInt64LittleEndian(trailer.AsSpan(8), records);
        BinaryPrimitives.WriteInt64LittleEndian(trailer.AsSpan(16), stacks);
        BinaryPrimitives.WriteInt64LittleEndian(trailer.AsSpan(24), valueBytes);
        return trailer;
    }

    public static byte[] Concat(params byte[][] parts)
    {
        var stream = new MemoryStream();
        foreach (var part in parts)
        {
            stream.Write(part);
        }

        return stream.ToArray();
    }
}
