using System;
using System.Threading;

namespace Memalloc.Core;

/// <summary>
/// The open-addressing hash index: <see cref="ArenaView.SlotCount"/> u64 slot words, linear probing from
/// <c>hash &amp; mask</c>. A slot is empty (0), a tombstone (1), or <c>tag &lt;&lt; 48 | recordOffset &gt;&gt; 3</c> with the
/// name hash's top 16 bits as tag, so that most non-matching slots are skipped without touching their record.
/// A slot is changed by one release store (publish, overwrite, tombstone); readers load it with acquire.
/// </summary>
internal static unsafe class Index
{
    internal static ulong SlotWord(ulong hash, long recordOffset) =>
        (hash & ~Layout.SlotOffsetMask) | ((ulong)recordOffset >> 3);

    internal static long OffsetOf(ulong slotWord) => (long)((slotWord & Layout.SlotOffsetMask) << 3);

    internal static bool HoldsRecord(ulong slotWord) => slotWord > Layout.TombstoneSlot;

    /// <summary>
    /// Looks a name up. Returns the slot holding its record (and the record's offset), or -1. <paramref name="insertAt"/>
    /// is the first tombstone or empty slot on the probe chain, where a new record for the name would go (-1 when the
    /// chain covers the whole table). Records met on the way are bounds-checked before their name is compared.
    /// </summary>
    internal static long Find(ArenaView view, ReadOnlySpan<byte> name, ulong hash, out long recordOffset, out long insertAt)
    {
        var slots = view.Slots;
        var mask = view.SlotMask;
        var tag = hash & ~Layout.SlotOffsetMask;
        var index = hash & mask;
        insertAt = -1;
        for (long probes = 0; probes < view.SlotCount; probes++)
        {
            var word = Volatile.Read(ref slots[index]);
            if (word == Layout.EmptySlot)
            {
                if (insertAt < 0)
                {
                    insertAt = (long)index;
                }

                break;
            }

            if (word == Layout.TombstoneSlot)
            {
                if (insertAt < 0)
                {
                    insertAt = (long)index;
                }
            }
            else if ((word & ~Layout.SlotOffsetMask) == tag)
            {
                var offset = OffsetOf(word);
                if (Heap.NameEquals(view, offset, name))
                {
                    recordOffset = offset;
                    return (long)index;
                }
            }

            index = (index + 1) & mask;
        }

        recordOffset = 0;
        return -1;
    }

    /// <summary>Puts a record into a fresh index (no tombstones, no duplicates: compaction builds it).</summary>
    internal static void InsertFresh(ArenaView view, ulong hash, long recordOffset)
    {
        var slots = view.Slots;
        var mask = view.SlotMask;
        var index = hash & mask;
        while (slots[index] != Layout.EmptySlot)
        {
            index = (index + 1) & mask;
        }

        slots[index] = SlotWord(hash, recordOffset);
    }
}
