using System;
using System.Collections.Generic;
using System.IO.Hashing;

namespace Memalloc.Core;

/// <summary>
/// Which coordination records a compaction drops (docs/coordination-design.md, "Queues" and "Named locks"): queue items
/// outside their queue's range (received ones, those of a removed queue; the one a killed sender left at <c>next</c> is
/// kept, as a send in progress writes it before its head), and locks whose holder is dead. Built from one walk of the
/// arena being compacted, under the writer lock.
/// </summary>
internal sealed unsafe class CoordinationGarbage
{
    private readonly Dictionary<UInt128, QueueHead> _queues = new();
    private readonly Dictionary<ulong, bool> _deadOwners = new();

    internal CoordinationGarbage(ArenaView view, long nowMs)
    {
        Span<byte> queueHash = stackalloc byte[CoordinationRecords.NameHashLength];
        for (long i = 0; i < view.SlotCount; i++)
        {
            var word = view.Slots[i];
            if (!Index.HoldsRecord(word))
            {
                continue;
            }

            var offset = Index.OffsetOf(word);
            if (Heap.CheckRecord(view, offset) < 0 || Heap.Kind(view, offset) != RecordKind.QueueHead || Heap.IsExpired(view, offset, nowMs))
            {
                continue;
            }

            CoordinationRecords.QueueNameHash(Heap.ReadNameBytes(view, offset), queueHash);
            _queues[ToKey(queueHash)] = Heap.ReadQueueHead(view, offset);
        }
    }

    /// <summary>True for a valid record that nothing can reach any more.</summary>
    internal bool IsGarbage(ArenaView view, long offset)
    {
        switch (Heap.Kind(view, offset))
        {
            case RecordKind.QueueItem:
                var name = Heap.ReadNameBytes(view, offset);
                return !CoordinationRecords.TryParseItemName(name, out var queueHash, out var number)
                    || !_queues.TryGetValue(ToKey(queueHash), out var head) || number < head.First || number > head.Next;
            case RecordKind.Lock:
                if (LockRecord.TryRead(Heap.ReadValue(view, offset)) is not { } record)
                {
                    return false; // Verify reports it
                }

                if (!_deadOwners.TryGetValue(record.Owner, out var dead))
                {
                    dead = record.Owner != WriterLock.OwnWord && WriterLock.IsOwnerDead(record.Owner);
                    _deadOwners[record.Owner] = dead;
                }

                return dead;
            default:
                return false;
        }
    }

    private static UInt128 ToKey(ReadOnlySpan<byte> hash) => System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(hash);
}
