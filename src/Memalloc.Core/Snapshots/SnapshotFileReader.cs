using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Memalloc.Core.Native;

namespace Memalloc.Core.Snapshots;

/// <summary>
/// Reads a snapshot file in two passes over one open handle (docs/snapshot-format.md, "Reading"):
/// <see cref="Open"/> checks the header; <see cref="Verify"/> reads the whole file once, checking the content checksum,
/// every record and the trailer, so that a truncated, damaged or foreign file is refused before anything is written to
/// a store; then <see cref="ReadStack"/> streams the stacks, each block of the file checked against the first pass.
/// Memory: one block of the file and the largest single value, whatever the file's size.
/// </summary>
public sealed class SnapshotFileReader : IDisposable
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

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
        _contents = new SnapshotContents { Stacks = walk.Stacks, ValueBytes = walk.ValueBytes, SkippedRecords = walk.Skipped, SkippedKinds = kinds };
        return _contents;
    }

    /// <summary>The next stack of the importing pass (after <see cref="Verify"/>), in the file's order (ascending names);
    /// false at the end. The spans stay valid until the next call.</summary>
    public bool ReadStack(out SnapshotStack stack)
    {
        if (_contents is null)
        {
            throw new InvalidOperationException("Verify the snapshot before reading its stacks.");
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
                if (_importWalk.LastKind == SnapshotRecordKind.Stack)
                {
                    stack = new SnapshotStack(_name.AsSpan(0, _importWalk.NameLength), _typeName.AsSpan(0, _importWalk.TypeNameLength),
                        _value.AsSpan(0, (int)_importWalk.ValueLength), _importWalk.Encoding, _importWalk.Created, _importWalk.Modified, _importWalk.Expires);
                    return true;
                }
            }
        }
        catch (InvalidDataException)
        {
            throw SnapshotErrors.ChangedWhileReading(Path); // verified whole before: only a change can make it malformed
        }

        stack = default;
        return false;
    }

    /// <summary>State of one pass: what the last record was, the counts for the trailer, the order check.</summary>
    private struct Walk
    {
        public long Records;
        public long Stacks;
        public long ValueBytes;
        public long Skipped;
        public HashSet<byte> SkippedKinds;
        public SnapshotRecordKind LastKind;
        public int NameLength;
        public int PreviousNameLength;
        public int TypeNameLength;
        public long ValueLength;
        public ValueEncoding Encoding;
        public long Created;
        public long Modified;
        public long Expires;

        public Walk()
        {
            SkippedKinds = [];
        }
    }

    /// <summary>Reads one record, or the trailer (false). Throws <see cref="InvalidDataException"/> for anything malformed.</summary>
    private bool NextRecord(SnapshotBlocks blocks, ref Walk walk, bool copyValue)
    {
        if (blocks.Remaining == SnapshotFormat.TrailerSize)
        {
            CheckTrailer(blocks, walk);
            return false;
        }

        var index = walk.Records;
        if (blocks.Remaining < SnapshotFormat.TrailerSize + SnapshotFormat.EnvelopeSize)
        {
            throw Malformed($"record {index} is cut off before the trailer");
        }

        Span<byte> envelope = stackalloc byte[SnapshotFormat.EnvelopeSize];
        blocks.Read(envelope);
        var kind = envelope[SnapshotFormat.EnvelopeKindOffset];
        var payloadLength = BinaryPrimitives.ReadInt64LittleEndian(envelope[SnapshotFormat.EnvelopePayloadLengthOffset..]);
        if (envelope[SnapshotFormat.EnvelopeReservedOffset..SnapshotFormat.EnvelopePayloadLengthOffset].ContainsAnyExcept((byte)0))
        {
            throw Malformed($"record {index} has non-zero reserved bytes");
        }

        if (payloadLength < 0 || payloadLength > blocks.Remaining - SnapshotFormat.TrailerSize)
        {
            throw Malformed($"record {index} says it is {payloadLength} bytes long, more than is left before the trailer");
        }

        walk.Records++;
        if (kind == (byte)SnapshotRecordKind.Stack)
        {
            ReadStackRecord(blocks, ref walk, payloadLength, copyValue);
            walk.LastKind = SnapshotRecordKind.Stack;
            return true;
        }

        if (kind == 0)
        {
            throw Malformed($"record {index} has kind 0, which no version writes");
        }

        // A kind added by a newer version: its length lets us step over it; the caller says what was skipped.
        blocks.Skip(payloadLength);
        walk.Skipped++;
        walk.SkippedKinds.Add(kind);
        walk.LastKind = (SnapshotRecordKind)kind;
        return true;
    }

    private void ReadStackRecord(SnapshotBlocks blocks, ref Walk walk, long payloadLength, bool copyValue)
    {
        var index = walk.Records - 1;
        if (payloadLength < SnapshotFormat.StackHeadSize + 1 || payloadLength > SnapshotFormat.MaxStackPayload)
        {
            throw Malformed($"stack record {index} has an impossible length ({payloadLength} bytes)");
        }

        Span<byte> head = stackalloc byte[SnapshotFormat.StackHeadSize];
        blocks.Read(head);
        var encoding = head[SnapshotFormat.StackEncodingOffset];
        int n = head[SnapshotFormat.StackNameLengthOffset];
        int t = BinaryPrimitives.ReadUInt16LittleEndian(head[SnapshotFormat.StackTypeNameLengthOffset..]);
        var created = BinaryPrimitives.ReadInt64LittleEndian(head[SnapshotFormat.StackCreatedOffset..]);
        var modified = BinaryPrimitives.ReadInt64LittleEndian(head[SnapshotFormat.StackModifiedOffset..]);
        var expires = BinaryPrimitives.ReadInt64LittleEndian(head[SnapshotFormat.StackExpiresOffset..]);
        var valueLength = payloadLength - SnapshotFormat.StackHeadSize - n - t;
        if (n == 0 || t > Layout.MaxTypeNameBytes || valueLength < 0 || valueLength > Array.MaxLength)
        {
            throw Malformed($"stack record {index} has impossible lengths (name {n}, type name {t}, record {payloadLength} bytes)");
        }

        if (encoding is not ((byte)ValueEncoding.Raw or (byte)ValueEncoding.CliXml))
        {
            throw Malformed($"stack record {index} has value encoding {encoding}, which this version does not know");
        }

        if (head[SnapshotFormat.StackReservedOffset..SnapshotFormat.StackCreatedOffset].ContainsAnyExcept((byte)0))
        {
            throw Malformed($"stack record {index} has non-zero reserved bytes");
        }

        if (!SnapshotFormat.IsValidTime(created) || !SnapshotFormat.IsValidTime(modified) || (expires != 0 && !SnapshotFormat.IsValidTime(expires)))
        {
            throw Malformed($"stack record {index} has a time outside 1970 to 9999");
        }

        blocks.Read(_name.AsSpan(0, n));
        blocks.Read(_typeName.AsSpan(0, t));
        var nameText = CheckName(index, n);
        if (walk.Stacks > 0 && _name.AsSpan(0, n).SequenceCompareTo(_previousName.AsSpan(0, walk.PreviousNameLength)) <= 0)
        {
            throw Malformed($"stack '{nameText}' (record {index}) is out of order: names must ascend, each once");
        }

        try
        {
            s_strictUtf8.GetCharCount(_typeName, 0, t);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed($"stack '{nameText}' has a type name that is not valid UTF-8");
        }

        if (copyValue)
        {
            if (_value.Length < valueLength)
            {
                _value = GC.AllocateUninitializedArray<byte>((int)Math.Min(Array.MaxLength, Math.Max(valueLength, _value.Length * 2L)));
            }

            blocks.Read(_value.AsSpan(0, (int)valueLength));
        }
        else
        {
            blocks.Skip(valueLength);
        }

        _name.AsSpan(0, n).CopyTo(_previousName);
        walk.PreviousNameLength = n;
        walk.NameLength = n;
        walk.TypeNameLength = t;
        walk.ValueLength = valueLength;
        walk.Encoding = (ValueEncoding)encoding;
        walk.Created = created;
        walk.Modified = modified;
        walk.Expires = expires;
        walk.Stacks++;
        walk.ValueBytes += valueLength;
    }

    /// <summary>The store's own rules for a stack name (UTF-8, 1 to 255 bytes, no control characters).</summary>
    private string CheckName(long index, int length)
    {
        string text;
        try
        {
            text = s_strictUtf8.GetString(_name, 0, length);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed($"stack record {index} has a name that is not valid UTF-8");
        }

        try
        {
            MemStore.ValidateName(text);
        }
        catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.InvalidName)
        {
            throw Malformed($"stack record {index}: {e.Message}");
        }

        return text;
    }

    private static void CheckTrailer(SnapshotBlocks blocks, in Walk walk)
    {
        Span<byte> trailer = stackalloc byte[SnapshotFormat.TrailerSize];
        blocks.Read(trailer);
        if (BinaryPrimitives.ReadUInt64LittleEndian(trailer[SnapshotFormat.TrailerMagicOffset..]) != SnapshotFormat.TrailerMagic)
        {
            throw Malformed("its trailer is missing");
        }

        var records = BinaryPrimitives.ReadInt64LittleEndian(trailer[SnapshotFormat.TrailerRecordCountOffset..]);
        var stacks = BinaryPrimitives.ReadInt64LittleEndian(trailer[SnapshotFormat.TrailerStackCountOffset..]);
        var valueBytes = BinaryPrimitives.ReadInt64LittleEndian(trailer[SnapshotFormat.TrailerValueBytesOffset..]);
        if (records != walk.Records || stacks != walk.Stacks || valueBytes != walk.ValueBytes)
        {
            throw Malformed($"its trailer counts {records} records, {stacks} stacks and {valueBytes} value bytes, "
                + $"but the file holds {walk.Records}, {walk.Stacks} and {walk.ValueBytes}");
        }
    }

    private static InvalidDataException Malformed(string problem) => new(problem);

    public void Dispose() => _stream.Dispose();
}
