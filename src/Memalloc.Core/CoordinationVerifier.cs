using System;
using System.Collections.Generic;
using System.Globalization;

namespace Memalloc.Core;

/// <summary>
/// Verify's checks of the coordination records (docs/coordination-design.md, "Verify"): each record's name has its
/// kind's shape, heads and locks hold valid values, and every item a head counts is there with the bytes it counts.
/// Items outside every head's range and locks of dead holders are garbage a crash may leave, not problems.
/// </summary>
internal sealed unsafe class CoordinationVerifier
{
    private readonly Action<string> _report;
    private readonly Dictionary<UInt128, (string Name, QueueHead Head)> _heads = new();
    private readonly Dictionary<(UInt128 Queue, long Number), long> _items = new();

    internal CoordinationVerifier(Action<string> report) => _report = report;

    /// <summary>Checks the record a slot names (its shape and checksum already checked by the caller).</summary>
    internal void Check(ArenaView view, long slot, long offset)
    {
        var name = Heap.ReadNameBytes(view, offset);
        var kind = Heap.Kind(view, offset);
        var value = Heap.ReadValue(view, offset);
        switch (kind)
        {
            case RecordKind.Raw or RecordKind.CliXml or RecordKind.QueueHead when CoordinationRecords.IsSystemName(name):
                Report(slot, $"a {kind} record has a name that starts with a control character");
                break;
            case RecordKind.QueueHead:
                if (QueueHead.TryRead(value) is { } head)
                {
                    Span<byte> hash = stackalloc byte[CoordinationRecords.NameHashLength];
                    CoordinationRecords.QueueNameHash(name, hash);
                    _heads[Key(hash)] = (System.Text.Encoding.UTF8.GetString(name), head);
                }
                else
                {
                    Report(slot, "a queue head holds no valid head (32 bytes, first <= next, bytes >= 0, reserved zero)");
                }

                break;
            case RecordKind.QueueItem:
                if (CoordinationRecords.TryParseItemName(name, out var queueHash, out var number))
                {
                    _items[(Key(queueHash), number)] = value.Length;
                }
                else
                {
                    Report(slot, "a queue item's name is not 0x03, a 16-byte queue hash and an 8-byte number");
                }

                break;
            case RecordKind.Lock:
                if (LockRecord.TryRead(value) is not { } record)
                {
                    Report(slot, "a lock record holds no valid lock (owner, holder, name)");
                    break;
                }

                var expected = new byte[CoordinationRecords.LockNameLength];
                CoordinationRecords.LockName(System.Text.Encoding.UTF8.GetBytes(record.Name), expected);
                if (!expected.AsSpan().SequenceEqual(name))
                {
                    Report(slot, $"the lock record of '{record.Name}' is not named by that name's hash");
                }

                break;
        }
    }

    /// <summary>After every slot was checked: each head's items.</summary>
    internal void Finish()
    {
        foreach (var (queue, (name, head)) in _heads)
        {
            long bytes = 0;
            for (var number = head.First; number < head.Next; number++)
            {
                if (!_items.TryGetValue((queue, number), out var length))
                {
                    _report(F($"queue '{name}': item {number} (of {head.First}..{head.Next - 1}) is missing"));
                    return;
                }

                bytes += length;
            }

            if (bytes != head.Bytes)
            {
                _report(F($"queue '{name}': its head counts {head.Bytes} bytes but its items hold {bytes}"));
            }
        }
    }

    private void Report(long slot, string problem) => _report(F($"slot {slot}: {problem}"));

    private static UInt128 Key(ReadOnlySpan<byte> hash) => System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(hash);

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
