using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Memalloc.Core;

/// <summary>
/// Walks a whole store and reports every broken invariant (docs/store-design.md, "What Verify checks"). Runs under the
/// writer lock, after recovery, so a healthy store always verifies clean. Never follows an offset it has not
/// bounds-checked, never throws for corruption.
/// </summary>
internal static unsafe class Verifier
{
    private const int MaxProblems = 1000;

    internal static VerifyReport Run(string store, Anchor anchor, uint uid, ArenaView view)
    {
        var problems = new List<string>();
        void Report(string problem)
        {
            if (problems.Count < MaxProblems)
            {
                problems.Add(problem);
            }
            else if (problems.Count == MaxProblems)
            {
                problems.Add("... more problems not listed.");
            }
        }

        // Anchor.
        if (!Anchor.HasIdentity(anchor.Address, anchor.Key, uid, store))
        {
            Report("anchor: identity (magic, layout version, size, owner, key or store name) does not match");
        }

        if ((uint)anchor.State > (uint)WriterState.Growing)
        {
            Report(F($"anchor: unknown writer state {(uint)anchor.State}"));
        }

        if (!Layout.IsValidMaxCapacity(anchor.MaxCapacity))
        {
            Report(F($"anchor: maximum capacity {anchor.MaxCapacity} outside {Layout.MinArenaCapacity}..{Layout.MaxCapacityLimit}"));
        }

        var arenaVersion = *(uint*)(view.Address + Layout.ArenaVersionOffset);
        if (arenaVersion > anchor.Version)
        {
            Report(F($"arena: layout version {arenaVersion} is newer than the anchor's {anchor.Version}"));
        }

        if (anchor.ArenaRef != view.ArenaRef)
        {
            Report(F($"anchor: arena reference {anchor.ArenaRef:X} is not the verified arena {view.ArenaRef:X}"));
        }

        // Arena header: the checks of every attach, then against the geometry cached at attach.
        var a = view.Address;
        var headerProblems = new List<string>();
        ArenaHeader.Problem(a, anchor.Key, view.Generation, view.Attachment.Size, out var capacity, out var slotCount, headerProblems);
        foreach (var problem in headerProblems)
        {
            Report("arena: " + problem);
        }

        if (capacity != view.Capacity || slotCount != view.SlotCount || *(long*)(a + Layout.ArenaHeapOffsetOffset) != view.HeapOffset)
        {
            Report("arena: capacity, slot count or heap offset changed since attach");
        }

        var bump = view.Bump;
        var bumpValid = bump >= view.HeapOffset && bump <= view.Capacity && (bump & 7) == 0;
        if (!bumpValid)
        {
            Report(F($"arena: bump pointer {bump} outside the heap [{view.HeapOffset}, {view.Capacity}] or unaligned"));
            bump = view.Capacity;
        }

        // Heap walk: from the heap start to the bump pointer, records lie back to back (live ones and garbage).
        var recordStarts = new HashSet<long>();
        long recordsChecked = 0;
        var sequence = view.Sequence;
        if (!Layout.IsValidSequence(sequence))
        {
            Report(F($"arena: write sequence {sequence} cannot give another version"));
        }
        for (var offset = view.HeapOffset; offset < bump;)
        {
            var size = Heap.CheckRecord(view, offset);
            if (size < 0 || offset + size > bump)
            {
                Report(F($"heap: no valid record at offset {offset} (before the bump pointer {bump}); the rest of the heap was not walked"));
                break;
            }

            recordStarts.Add(offset);
            recordsChecked++;
            var record = a + offset;
            int nameLength = record[Layout.RecordNameLengthOffset];
            int typeNameLength = *(ushort*)(record + Layout.RecordTypeNameLengthOffset);
            var valueLength = *(long*)(record + Layout.RecordValueLengthOffset);
            if (Heap.Checksum(record, nameLength, typeNameLength, valueLength) != *(ulong*)(record + Layout.RecordChecksumOffset))
            {
                Report(F($"record at {offset}: checksum mismatch"));
            }

            var name = new ReadOnlySpan<byte>(record + Layout.RecordNameOffset, nameLength);
            if (XxHash3.HashToUInt64(name) != *(ulong*)(record + Layout.RecordNameHashOffset))
            {
                Report(F($"record at {offset}: stored name hash does not match the name"));
            }

            if (Heap.Version(view, offset) > sequence || Heap.Version(view, offset) <= 0)
            {
                Report(F($"record at {offset}: version {Heap.Version(view, offset)} outside 1..sequence {sequence}"));
            }

            if (record[Layout.RecordEncodingOffset] > (byte)RecordKind.Lock)
            {
                Report(F($"record at {offset}: unknown encoding {record[Layout.RecordEncodingOffset]}"));
            }

            offset += size;
        }

        // Index: every slot, its record, its probe chain, duplicates, and the counters.
        long entries = 0;
        long tombstones = 0;
        long live = 0;
        var names = new HashSet<string>(StringComparer.Ordinal);
        var coordination = new CoordinationVerifier(Report);
        var slots = view.Slots;
        for (long i = 0; i < view.SlotCount; i++)
        {
            var word = slots[i];
            if (word == Layout.EmptySlot)
            {
                continue;
            }

            if (word == Layout.TombstoneSlot)
            {
                tombstones++;
                continue;
            }

            entries++;
            var offset = Index.OffsetOf(word);
            var size = Heap.CheckRecord(view, offset);
            if (size < 0)
            {
                Report(F($"slot {i}: points at offset {offset}, which is not a valid record"));
                continue;
            }

            if (!recordStarts.Contains(offset))
            {
                Report(F($"slot {i}: record at {offset} is not on the heap walk (past the bump pointer or misaligned with its neighbours)"));
            }

            live += size;
            var record = a + offset;
            var name = new ReadOnlySpan<byte>(record + Layout.RecordNameOffset, record[Layout.RecordNameLengthOffset]);
            var hash = XxHash3.HashToUInt64(name);
            if ((hash & ~Layout.SlotOffsetMask) != (word & ~Layout.SlotOffsetMask))
            {
                Report(F($"slot {i}: tag does not match the hash of its record's name"));
            }

            // Reachable: no empty slot between the name's home slot and this one.
            for (var probe = hash & view.SlotMask; probe != (ulong)i; probe = (probe + 1) & view.SlotMask)
            {
                if (slots[probe] == Layout.EmptySlot)
                {
                    Report(F($"slot {i}: unreachable from its home slot {hash & view.SlotMask} (empty slot {probe} in between)"));
                    break;
                }
            }

            // Item and lock names are binary: compared as hex, since UTF-8 decoding would merge distinct invalid bytes.
            var text = CoordinationRecords.IsSystemName(name) ? Convert.ToHexString(name) : Encoding.UTF8.GetString(name);
            if (!names.Add(text))
            {
                Report(F($"slot {i}: duplicate name '{text}'"));
            }

            if (Heap.Checksum(record, name.Length, *(ushort*)(record + Layout.RecordTypeNameLengthOffset), *(long*)(record + Layout.RecordValueLengthOffset))
                == *(ulong*)(record + Layout.RecordChecksumOffset))
            {
                coordination.Check(view, i, offset); // reads values: only of records whose checksum holds
            }
        }

        coordination.Finish();

        Compare("entries", view.Entries, entries);
        Compare("tombstones", view.Tombstones, tombstones);
        Compare("live bytes", view.LiveBytes, live);
        if (bumpValid)
        {
            Compare("garbage bytes", view.GarbageBytes, bump - view.HeapOffset - live);
        }

        if ((entries + tombstones) > view.SlotCount)
        {
            Report("index: more used slots than slots");
        }

        return new VerifyReport { Store = store, Problems = problems, EntriesChecked = entries, RecordsChecked = recordsChecked };

        void Compare(string counter, long stored, long counted)
        {
            if (stored != counted)
            {
                Report(F($"arena: counter '{counter}' is {stored} but the walk counts {counted}"));
            }
        }
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
