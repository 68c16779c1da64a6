using System;
using System.Collections.Generic;
using System.IO;
using Memalloc.Core.Native;

namespace Memalloc.Core.Snapshots;

/// <summary>
/// Reads a snapshot file in two passes over one open handle (docs/snapshot-format.md, "Reading"):
/// <see cref="Open"/> checks the header; <see cref="Verify"/> reads the whole file once, checking the content checksum,
/// every record and the trailer, so that a truncated, damaged or foreign file is refused before anything is written to
/// a store; then <see cref="ReadNext"/> streams the stacks and queues (a queue's items one by one through
/// <see cref="ReadQueueItem"/>), each block of the file checked against the first pass.
/// Memory: one block of the file and the largest single value (a stack's or an item's), whatever the file's size.
/// </summary>
public sealed partial class SnapshotFileReader : IDisposable
{
    private readonly FileStream _stream;
    private readonly List<ulong> _blockHashes = [];
    private readonly ulong _contentChecksum;
    private readonly byte[] _name = new byte[Layout.MaxNameBytes];
    private readonly byte[] _previousName = new byte[Layout.MaxNameBytes];
    private readonly byte[] _typeName = new byte[Layout.MaxTypeNameBytes];
    private byte[] _value = [];
    private SnapshotContents? _contents;
    private SnapshotBlocks? _replay;
    private Walk _importWalk;

    private SnapshotFileReader(string path, FileStream stream, string storeName, DateTime takenAt, long contentLength, ulong contentChecksum)
    {
        Path = path;
        _stream = stream;
        StoreName = storeName;
        TakenAt = takenAt;
        ContentLength = contentLength;
        _contentChecksum = contentChecksum;
    }

    public string Path { get; }

    /// <summary>The store the snapshot was taken of.</summary>
    public string StoreName { get; }

    /// <summary>The instant the snapshot holds (UTC).</summary>
    public DateTime TakenAt { get; }

    public long ContentLength { get; }

    /// <summary>Called after each block of either pass with the bytes of the file read so far in that pass.</summary>
    public Action<long>? Progress { get; set; }

    /// <summary>The file's whole length.</summary>
    public long Length => SnapshotFormat.HeaderSize + ContentLength;

    /// <summary>Opens the file and checks its header: signature, header checksum, format version, length.</summary>
    public static SnapshotFileReader Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw SnapshotErrors.SourceIsDirectory(full);
        }

        if (Files.IsSpecialFile(full))
        {
            throw SnapshotErrors.SourceIsSpecial(full);
        }

        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        try
        {
            var header = new byte[SnapshotFormat.HeaderSize];
            var length = stream.Length;
            var got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            var (storeName, takenAt, contentLength, checksum) = SnapshotHeader.Check(full, header.AsSpan(0, got), length);
            return new SnapshotFileReader(full, stream, storeName, takenAt, contentLength, checksum);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The verifying pass: reads the whole file, refusing it (InvalidData, before anything is written anywhere)
    /// when it is damaged or malformed.</summary>
    public SnapshotContents Verify()
    {
        if (_contents is not null)
        {
            return _contents;
        }

        _blockHashes.Clear();
        var blocks = SnapshotBlocks.Record(_stream, Path, ContentLength, _blockHashes, Progress);
        var walk = new Walk();
        string? problem = null;
        try
        {
            while (NextRecord(blocks, ref walk, copyValue: false))
            {
            }
        }
        catch (InvalidDataException e)
        {
            problem = e.Message;
        }

        // Damage explains any problem found: a flipped bit in a length field looks like a malformed record. So the
        // checksum over the whole content decides first, and a malformed record counts only in an undamaged file.
        blocks.Drain();
        if (blocks.ContentChecksum != _contentChecksum)
        {
            throw SnapshotErrors.InvalidFile(Path, "the file is damaged (its content does not match the checksum in its header)");
        }

        if (problem is not null)
        {
            throw SnapshotErrors.InvalidFile(Path, problem);
        }

        var kinds = new List<byte>(walk.SkippedKinds);
        kinds.Sort();
        _contents = new SnapshotContents
        {
            Stacks = walk.Stacks,
            ValueBytes = walk.ValueBytes,
            Queues = walk.Queues,
            QueueItems = walk.Items,
            QueueItemBytes = walk.ItemBytes,
            SkippedRecords = walk.Skipped,
            SkippedKinds = kinds,
        };
        return _contents;
    }

    /// <summary>Moves to the next stack or queue of the importing pass (after <see cref="Verify"/>), in the file's order
    /// (ascending names); false at the end. After <see cref="SnapshotRecordKind.Stack"/>, <see cref="Stack"/> is it; after
    /// <see cref="SnapshotRecordKind.Queue"/>, <see cref="Queue"/> is it and <see cref="ReadQueueItem"/> hands out its
    /// items (those not read are stepped over by the next call). The spans stay valid until the next call.</summary>
    public bool ReadNext(out SnapshotRecordKind kind)
    {
        if (_contents is null)
        {
            throw new InvalidOperationException("Verify the snapshot before reading its records.");
        }

        if (_replay is null)
        {
            _replay = SnapshotBlocks.Replay(_stream, Path, ContentLength, _blockHashes, Progress);
            _importWalk = new Walk();
        }

        try
        {
            while (NextRecord(_replay, ref _importWalk, copyValue: true))
            {
                if (_importWalk.LastKind is SnapshotRecordKind.Stack or SnapshotRecordKind.Queue)
                {
                    kind = _importWalk.LastKind;
                    return true;
                }
            }
        }
        catch (InvalidDataException)
        {
            throw SnapshotErrors.ChangedWhileReading(Path); // verified whole before: only a change can make it malformed
        }

        kind = default;
        return false;
    }

    /// <summary>The stack <see cref="ReadNext"/> moved to.</summary>
    public SnapshotStack Stack => _importWalk.LastKind == SnapshotRecordKind.Stack
        ? new SnapshotStack(_name.AsSpan(0, _importWalk.NameLength), _typeName.AsSpan(0, _importWalk.TypeNameLength),
            _value.AsSpan(0, (int)_importWalk.ValueLength), _importWalk.Encoding, _importWalk.Created, _importWalk.Modified, _importWalk.Expires)
        : throw new InvalidOperationException("The reader is not at a stack.");

    /// <summary>The queue <see cref="ReadNext"/> moved to (its name and counts; the items come through
    /// <see cref="ReadQueueItem"/>).</summary>
    public SnapshotQueue Queue => _importWalk.LastKind == SnapshotRecordKind.Queue
        ? new SnapshotQueue(_name.AsSpan(0, _importWalk.NameLength), _importWalk.Created, _importWalk.Modified,
            _importWalk.QueueItemCount, _importWalk.QueueItemBytes, _importWalk.QueueTypeNameBytes)
        : throw new InvalidOperationException("The reader is not at a queue.");

    /// <summary>The next item of the current queue, oldest first; false after its last. The spans stay valid until the
    /// next call.</summary>
    public bool ReadQueueItem(out SnapshotQueueItem item)
    {
        if (_replay is null || _importWalk.LastKind != SnapshotRecordKind.Queue)
        {
            throw new InvalidOperationException("The reader is not at a queue.");
        }

        try
        {
            if (ReadItem(_replay, ref _importWalk, copyValue: true))
            {
                item = new SnapshotQueueItem(_typeName.AsSpan(0, _importWalk.TypeNameLength), _value.AsSpan(0, (int)_importWalk.ValueLength));
                return true;
            }
        }
        catch (InvalidDataException)
        {
            throw SnapshotErrors.ChangedWhileReading(Path);
        }

        item = default;
        return false;
    }

    public void Dispose() => _stream.Dispose();
}
