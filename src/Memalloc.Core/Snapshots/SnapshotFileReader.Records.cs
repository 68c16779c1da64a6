using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Memalloc.Core.Snapshots;

/// <summary>The records of a snapshot file as the reader parses them (docs/snapshot-format.md, "Records"): every length,
/// reserved byte, name, type name, time and count checked, in either pass; anything malformed is an
/// <see cref="InvalidDataException"/>, which the passes turn into a refusal of the file.</summary>
public sealed partial class SnapshotFileReader
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>State of one pass: what the last record was, the counts for the trailer, the order check, and where it is
    /// in a queue's items.</summary>
    private struct Walk
    {
        public long Records;
        public long Stacks;
        public long ValueBytes;
        public long Queues;
        public long Items;
        public long ItemBytes;
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
        public string? QueueName;
        public long QueueItemCount;
        public long QueueItemBytes;
        public long QueueTypeNameBytes;
        public long ItemsLeft;
        public long ItemPayloadLeft;
        public long ItemBytesLeft;

        public Walk()
        {
            SkippedKinds = [];
        }
    }

    /// <summary>Reads one record, or the trailer (false). Throws <see cref="InvalidDataException"/> for anything malformed.</summary>
    private bool NextRecord(SnapshotBlocks blocks, ref Walk walk, bool copyValue)
    {
        if (walk.ItemPayloadLeft > 0)
        {
            blocks.Skip(walk.ItemPayloadLeft); // the items of a queue the caller did not want (verified in the first pass)
            walk.ItemPayloadLeft = walk.ItemsLeft = walk.ItemBytesLeft = 0;
        }

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

        if (kind == (byte)SnapshotRecordKind.Queue)
        {
            ReadQueueRecord(blocks, ref walk, payloadLength);
            walk.LastKind = SnapshotRecordKind.Queue;
            if (!copyValue)
            {
                while (ReadItem(blocks, ref walk, copyValue: false))
                {
                }
            }

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
        var nameText = CheckName(index, n, ref walk);
        CheckTypeName(t, $"stack '{nameText}'");
        ReadValue(blocks, valueLength, copyValue);
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

    /// <summary>A queue's head and name (its items follow: <see cref="ReadItem"/>).</summary>
    private void ReadQueueRecord(SnapshotBlocks blocks, ref Walk walk, long payloadLength)
    {
        var index = walk.Records - 1;
        if (payloadLength < SnapshotFormat.QueueHeadSize + 1)
        {
            throw Malformed($"queue record {index} has an impossible length ({payloadLength} bytes)");
        }

        Span<byte> head = stackalloc byte[SnapshotFormat.QueueHeadSize];
        blocks.Read(head);
        int n = head[SnapshotFormat.QueueNameLengthOffset];
        var created = BinaryPrimitives.ReadInt64LittleEndian(head[SnapshotFormat.QueueCreatedOffset..]);
        var modified = BinaryPrimitives.ReadInt64LittleEndian(head[SnapshotFormat.QueueModifiedOffset..]);
        var itemCount = BinaryPrimitives.ReadInt64LittleEndian(head[SnapshotFormat.QueueItemCountOffset..]);
        var itemBytes = BinaryPrimitives.ReadInt64LittleEndian(head[SnapshotFormat.QueueItemBytesOffset..]);
        var itemsLength = payloadLength - SnapshotFormat.QueueHeadSize - n;
        if (n == 0 || itemsLength < 0 || itemCount < 0 || itemCount > itemsLength / SnapshotFormat.ItemHeadSize
            || itemBytes < 0 || itemBytes > itemsLength - (itemCount * SnapshotFormat.ItemHeadSize))
        {
            throw Malformed($"queue record {index} has impossible lengths (name {n}, {itemCount} items of {itemBytes} bytes, record {payloadLength} bytes)");
        }

        if (head[SnapshotFormat.QueueReservedOffset..SnapshotFormat.QueueCreatedOffset].ContainsAnyExcept((byte)0))
        {
            throw Malformed($"queue record {index} has non-zero reserved bytes");
        }

        if (!SnapshotFormat.IsValidTime(created) || !SnapshotFormat.IsValidTime(modified))
        {
            throw Malformed($"queue record {index} has a time outside 1970 to 9999");
        }

        blocks.Read(_name.AsSpan(0, n));
        walk.QueueName = CheckName(index, n, ref walk);
        walk.NameLength = n;
        walk.Created = created;
        walk.Modified = modified;
        walk.QueueItemCount = walk.ItemsLeft = itemCount;
        walk.QueueItemBytes = walk.ItemBytesLeft = itemBytes;
        walk.QueueTypeNameBytes = itemsLength - (itemCount * SnapshotFormat.ItemHeadSize) - itemBytes;
        walk.ItemPayloadLeft = itemsLength;
        walk.Queues++;
    }

    /// <summary>The next item of the queue being read; false after its last, when the items must have filled the record
    /// exactly and their values must add up to what the queue's head says.</summary>
    private bool ReadItem(SnapshotBlocks blocks, ref Walk walk, bool copyValue)
    {
        if (walk.ItemsLeft == 0)
        {
            if (walk.ItemPayloadLeft != 0 || walk.ItemBytesLeft != 0)
            {
                throw Malformed($"queue '{walk.QueueName}' does not hold the items its head counts ({walk.ItemPayloadLeft} bytes left over)");
            }

            return false;
        }

        var number = walk.QueueItemCount - walk.ItemsLeft;
        if (walk.ItemPayloadLeft < SnapshotFormat.ItemHeadSize)
        {
            throw Malformed($"item {number} of queue '{walk.QueueName}' is cut off by the end of its record");
        }

        Span<byte> head = stackalloc byte[SnapshotFormat.ItemHeadSize];
        blocks.Read(head);
        int t = BinaryPrimitives.ReadUInt16LittleEndian(head[SnapshotFormat.ItemTypeNameLengthOffset..]);
        var valueLength = BinaryPrimitives.ReadInt64LittleEndian(head[SnapshotFormat.ItemValueLengthOffset..]);
        var left = walk.ItemPayloadLeft - SnapshotFormat.ItemHeadSize;
        if (t > Layout.MaxTypeNameBytes || t > left || valueLength < 0 || valueLength > Array.MaxLength || valueLength > left - t
            || valueLength > walk.ItemBytesLeft)
        {
            throw Malformed($"item {number} of queue '{walk.QueueName}' has impossible lengths (type name {t}, value {valueLength})");
        }

        if (head[SnapshotFormat.ItemReservedOffset..SnapshotFormat.ItemValueLengthOffset].ContainsAnyExcept((byte)0))
        {
            throw Malformed($"item {number} of queue '{walk.QueueName}' has non-zero reserved bytes");
        }

        blocks.Read(_typeName.AsSpan(0, t));
        CheckTypeName(t, $"item {number} of queue '{walk.QueueName}'");
        ReadValue(blocks, valueLength, copyValue);
        walk.TypeNameLength = t;
        walk.ValueLength = valueLength;
        walk.ItemsLeft--;
        walk.ItemPayloadLeft = left - t - valueLength;
        walk.ItemBytesLeft -= valueLength;
        walk.Items++;
        walk.ItemBytes += valueLength;
        return true;
    }

    private void ReadValue(SnapshotBlocks blocks, long valueLength, bool copyValue)
    {
        if (!copyValue)
        {
            blocks.Skip(valueLength);
            return;
        }

        if (_value.Length < valueLength)
        {
            _value = GC.AllocateUninitializedArray<byte>((int)Math.Min(Array.MaxLength, Math.Max(valueLength, _value.Length * 2L)));
        }

        blocks.Read(_value.AsSpan(0, (int)valueLength));
    }

    private void CheckTypeName(int length, string owner)
    {
        try
        {
            s_strictUtf8.GetCharCount(_typeName, 0, length);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed($"{owner} has a type name that is not valid UTF-8");
        }
    }

    /// <summary>The store's own rules for a stack or queue name (UTF-8, 1 to 255 bytes, no control characters), and the
    /// order of names: stacks and queues together ascend, each name once.</summary>
    private string CheckName(long index, int length, ref Walk walk)
    {
        string text;
        try
        {
            text = s_strictUtf8.GetString(_name, 0, length);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed($"record {index} has a name that is not valid UTF-8");
        }

        try
        {
            MemStore.ValidateName(text);
        }
        catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.InvalidName)
        {
            throw Malformed($"record {index}: {e.Message}");
        }

        if (walk.Stacks + walk.Queues > 0 && _name.AsSpan(0, length).SequenceCompareTo(_previousName.AsSpan(0, walk.PreviousNameLength)) <= 0)
        {
            throw Malformed($"'{text}' (record {index}) is out of order: names of stacks and queues must ascend, each once");
        }

        _name.AsSpan(0, length).CopyTo(_previousName);
        walk.PreviousNameLength = length;
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
}
