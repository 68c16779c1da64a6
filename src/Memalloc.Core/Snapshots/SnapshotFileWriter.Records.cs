using System;
using System.Buffers.Binary;
using System.Text;

namespace Memalloc.Core.Snapshots;

/// <summary>The records a snapshot writer appends (docs/snapshot-format.md, "Records"): stacks, and queues followed by
/// their items, each checked against the reader's rules before a byte of it is written.</summary>
public sealed partial class SnapshotFileWriter
{
    /// <summary>Appends one stack. Names must come in strictly ascending order of their UTF-8 bytes.</summary>
    public void WriteStack(in SnapshotStack stack)
    {
        var file = _stream ?? throw new ObjectDisposedException(nameof(SnapshotFileWriter));
        CheckQueueComplete();
        CheckStack(stack);
        var n = stack.Name.Length;
        var t = stack.TypeName.Length;
        var payloadLength = SnapshotFormat.StackHeadSize + n + t + (long)stack.Value.Length;
        var record = _head.AsSpan();
        record[..(SnapshotFormat.EnvelopeSize + SnapshotFormat.StackHeadSize)].Clear();
        record[SnapshotFormat.EnvelopeKindOffset] = (byte)SnapshotRecordKind.Stack;
        BinaryPrimitives.WriteInt64LittleEndian(record[SnapshotFormat.EnvelopePayloadLengthOffset..], payloadLength);
        var stackHead = record[SnapshotFormat.EnvelopeSize..];
        stackHead[SnapshotFormat.StackEncodingOffset] = (byte)stack.Encoding;
        stackHead[SnapshotFormat.StackNameLengthOffset] = (byte)n;
        BinaryPrimitives.WriteUInt16LittleEndian(stackHead[SnapshotFormat.StackTypeNameLengthOffset..], (ushort)t);
        BinaryPrimitives.WriteInt64LittleEndian(stackHead[SnapshotFormat.StackCreatedOffset..], stack.CreatedMs);
        BinaryPrimitives.WriteInt64LittleEndian(stackHead[SnapshotFormat.StackModifiedOffset..], stack.ModifiedMs);
        BinaryPrimitives.WriteInt64LittleEndian(stackHead[SnapshotFormat.StackExpiresOffset..], stack.ExpiresMs);
        stack.Name.CopyTo(stackHead[SnapshotFormat.StackHeadSize..]);
        stack.TypeName.CopyTo(stackHead[(SnapshotFormat.StackHeadSize + n)..]);
        Append(file, record[..(SnapshotFormat.EnvelopeSize + SnapshotFormat.StackHeadSize + n + t)]);
        Append(file, stack.Value);
        Named(stack.Name);
        StackCount++;
        ValueBytes += stack.Value.Length;
    }

    /// <summary>Appends one queue's record up to its name; its <see cref="SnapshotQueue.ItemCount"/> items must follow
    /// through <see cref="WriteQueueItem"/>, oldest first, with the lengths the queue declares. Names (of stacks and
    /// queues together) must come in strictly ascending order of their UTF-8 bytes.</summary>
    public void WriteQueue(in SnapshotQueue queue)
    {
        var file = _stream ?? throw new ObjectDisposedException(nameof(SnapshotFileWriter));
        CheckQueueComplete();
        CheckName(queue.Name, queue.NameText);
        CheckTimes(queue.CreatedMs, queue.ModifiedMs, 0);
        if (queue.ItemCount < 0 || queue.ItemBytes < 0 || queue.ItemTypeNameBytes < 0
            || queue.ItemTypeNameBytes > queue.ItemCount * Layout.MaxTypeNameBytes)
        {
            throw new ArgumentException($"Queue '{queue.NameText}' declares impossible lengths.", nameof(queue));
        }

        var n = queue.Name.Length;
        var record = _head.AsSpan(0, SnapshotFormat.EnvelopeSize + SnapshotFormat.QueueHeadSize + n);
        record.Clear();
        record[SnapshotFormat.EnvelopeKindOffset] = (byte)SnapshotRecordKind.Queue;
        BinaryPrimitives.WriteInt64LittleEndian(record[SnapshotFormat.EnvelopePayloadLengthOffset..],
            SnapshotFormat.QueuePayloadLength(n, queue.ItemCount, queue.ItemTypeNameBytes, queue.ItemBytes));
        var queueHead = record[SnapshotFormat.EnvelopeSize..];
        queueHead[SnapshotFormat.QueueNameLengthOffset] = (byte)n;
        BinaryPrimitives.WriteInt64LittleEndian(queueHead[SnapshotFormat.QueueCreatedOffset..], queue.CreatedMs);
        BinaryPrimitives.WriteInt64LittleEndian(queueHead[SnapshotFormat.QueueModifiedOffset..], queue.ModifiedMs);
        BinaryPrimitives.WriteInt64LittleEndian(queueHead[SnapshotFormat.QueueItemCountOffset..], queue.ItemCount);
        BinaryPrimitives.WriteInt64LittleEndian(queueHead[SnapshotFormat.QueueItemBytesOffset..], queue.ItemBytes);
        queue.Name.CopyTo(queueHead[SnapshotFormat.QueueHeadSize..]);
        Append(file, record);
        Named(queue.Name);
        QueueCount++;
        _itemsLeft = queue.ItemCount;
        _itemPayloadLeft = (queue.ItemCount * SnapshotFormat.ItemHeadSize) + queue.ItemTypeNameBytes + queue.ItemBytes;
        _itemBytesLeft = queue.ItemBytes;
    }

    /// <summary>Appends the next item of the queue <see cref="WriteQueue"/> began.</summary>
    public void WriteQueueItem(in SnapshotQueueItem item)
    {
        var file = _stream ?? throw new ObjectDisposedException(nameof(SnapshotFileWriter));
        var length = SnapshotFormat.ItemHeadSize + item.TypeName.Length + (long)item.Value.Length;
        if (_itemsLeft == 0 || item.TypeName.Length > Layout.MaxTypeNameBytes || length > _itemPayloadLeft || item.Value.Length > _itemBytesLeft)
        {
            throw new ArgumentException("A queue item came that the queue's declared count and lengths leave no room for.", nameof(item));
        }

        Span<byte> itemHead = stackalloc byte[SnapshotFormat.ItemHeadSize];
        itemHead.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(itemHead[SnapshotFormat.ItemTypeNameLengthOffset..], (ushort)item.TypeName.Length);
        BinaryPrimitives.WriteInt64LittleEndian(itemHead[SnapshotFormat.ItemValueLengthOffset..], item.Value.Length);
        Append(file, itemHead);
        Append(file, item.TypeName);
        Append(file, item.Value);
        _itemsLeft--;
        _itemPayloadLeft -= length;
        _itemBytesLeft -= item.Value.Length;
        QueueItemCount++;
    }

    /// <summary>The queue record written last must be whole before anything follows it: its envelope's length is
    /// already in the file.</summary>
    private void CheckQueueComplete()
    {
        if (_itemsLeft != 0 || _itemPayloadLeft != 0 || _itemBytesLeft != 0)
        {
            throw new InvalidOperationException(
                $"The queue '{Encoding.UTF8.GetString(_previousName, 0, _previousNameLength)}' is not complete: {_itemsLeft} items, or bytes it declared, are missing.");
        }
    }

    private void Named(ReadOnlySpan<byte> name)
    {
        name.CopyTo(_previousName);
        _previousNameLength = name.Length;
    }

    /// <summary>A writer never produces a file its reader refuses: the same rules, checked before a byte is written.</summary>
    private void CheckStack(in SnapshotStack stack)
    {
        CheckName(stack.Name, stack.NameText);
        if (stack.TypeName.Length > Layout.MaxTypeNameBytes)
        {
            throw new ArgumentException($"A type name must be at most {Layout.MaxTypeNameBytes} bytes.", nameof(stack));
        }

        if (stack.Encoding is not (ValueEncoding.Raw or ValueEncoding.CliXml))
        {
            throw new ArgumentException($"Unknown value encoding {(int)stack.Encoding}.", nameof(stack));
        }

        CheckTimes(stack.CreatedMs, stack.ModifiedMs, stack.ExpiresMs);
    }

    /// <summary>Names of stacks and queues share one order: strictly ascending bytes, each name once.</summary>
    private void CheckName(ReadOnlySpan<byte> name, string text)
    {
        if (name.Length is 0 or > Layout.MaxNameBytes)
        {
            throw new ArgumentException($"A stack or queue name must be 1 to {Layout.MaxNameBytes} bytes.", nameof(name));
        }

        if (StackCount + QueueCount > 0 && name.SequenceCompareTo(_previousName.AsSpan(0, _previousNameLength)) <= 0)
        {
            throw new ArgumentException(
                $"Stacks and queues must be written in ascending order of their names' bytes: '{text}' came after '{Encoding.UTF8.GetString(_previousName, 0, _previousNameLength)}'.",
                nameof(name));
        }
    }

    private static void CheckTimes(long createdMs, long modifiedMs, long expiresMs)
    {
        if (!SnapshotFormat.IsValidTime(createdMs) || !SnapshotFormat.IsValidTime(modifiedMs) || (expiresMs != 0 && !SnapshotFormat.IsValidTime(expiresMs)))
        {
            throw new ArgumentException("A record's times must lie between 1970 and the end of 9999.");
        }
    }
}
