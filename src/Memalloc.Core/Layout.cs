using System;

namespace Memalloc.Core;

/// <summary>
/// Every offset and constant of the shared-memory format, in one place (docs/store-format.md describes the same
/// bytes in prose). All integers are little-endian (every supported platform is), all offsets are from the start
/// of their segment. Changing anything here is a format change: bump <see cref="LayoutVersion"/>.
/// </summary>
internal static class Layout
{
    /// <summary>The newest layout this code reads and writes: 2 adds the coordination records (queue heads and items,
    /// locks). A store stays at <see cref="FirstLayoutVersion"/> until its first coordination record is written
    /// (docs/coordination-design.md, "Record kinds and the layout version"), so older Memalloc keeps using stores that
    /// hold only stacks and refuses, as foreign, those it would misread.</summary>
    internal const uint LayoutVersion = 2;

    /// <summary>The layout a new store starts at, and the oldest this code reads.</summary>
    internal const uint FirstLayoutVersion = 1;

    internal static bool IsKnownVersion(uint version) => version is >= FirstLayoutVersion and <= LayoutVersion;

    // ---- Anchor: one page at the store's key; never moves, never grows. ----
    internal const int AnchorSize = 4096;
    /// <summary>"MEMANCHR" read as a little-endian u64.</summary>
    internal const ulong AnchorMagic = 0x5248434E414D454D;
    internal const int AnchorMagicOffset = 0;           // u64, written last at creation (release)
    internal const int AnchorVersionOffset = 8;         // u32 LayoutVersion
    internal const int AnchorSizeOffset = 12;           // u32 AnchorSize
    internal const int AnchorOwnerUidOffset = 16;       // u32 uid of the creating user
    internal const int AnchorStoreNameLengthOffset = 20; // u32 bytes of the store name (1..64)
    internal const int AnchorStoreNameOffset = 24;      // 64 bytes ASCII, zero padded
    internal const int StoreNameMaxLength = 64;
    internal const int AnchorKeyOffset = 88;            // i32 the anchor's own SysV key
    internal const int AnchorMaxCapacityOffset = 96;    // i64 maximum arena size, fixed at creation
    internal const int AnchorCreatedOffset = 104;       // i64 Unix ms of creation
    internal const int AnchorInitialCapacityOffset = 112; // i64 capacity of the first arena: compaction never shrinks below it (0: written before it was kept)
    internal const int LockWordOffset = 128;            // u64 startTimeToken << 32 | pid; 0 = free. Own cache line.
    internal const int WriterStateOffset = 192;         // u32 WriterState
    internal const int PendingGenerationOffset = 196;   // u32 generation a growth is building
    internal const int PendingKeyOffset = 200;          // i32 key of that arena
    internal const int PendingShmIdOffset = 204;        // i32 its shmid once created, else -1
    internal const int PreviousShmIdOffset = 208;       // i32 the arena a growth replaces
    internal const int PendingCapacityOffset = 216;     // i64 size of the segment a growth creates at PendingKey; 0 = unknown
    internal const int ArenaRefOffset = 256;            // u64 generation << 32 | shmid of the current arena. Own cache line.
    internal const int SpareRefOffset = 320;            // u64 generation << 32 | shmid of the retired arena kept for reuse; 0 = none.
    internal const int ArenaBackingOffset = 384;        // u32 ArenaBacking: 0 System V segments, 1 POSIX objects. Fixed at creation.
    internal const int ArenaNonceOffset = 388;          // u32 POSIX: random non-zero part of every arena object's name; 0 for System V.

    // ---- Update turns: a table of TurnCount entries in the anchor (see UpdateTurns). ----
    internal const int TurnTableOffset = 1024;
    internal const int TurnCount = 128;
    internal const int TurnSize = 16;
    internal const int TurnOwnerOffset = 0;             // u64 startTimeToken << 32 | pid of the updater holding the turn; 0 = free
    internal const int TurnNextTicketOffset = 8;        // u32 next ticket to hand out
    internal const int TurnServingOffset = 12;          // u32 ticket whose turn it is

    /// <summary>Arenas up to this size are kept as the spare when compaction replaces them (see docs/store-design.md,
    /// "Recycling"): reusing already-faulted pages makes the bump allocator's steady state free of page faults. Larger
    /// arenas are removed instead, so that a big store does not hold twice its memory.</summary>
    internal const long MaxSpareCapacity = 64L << 20;

    /// <summary>A new store's sequence (the last version handed out) starts at its creation time in microseconds since
    /// 1970 shifted left by this many bits: a store made again under the same name starts above every version the
    /// removed one handed out (it would need 1024 writes per microsecond of its life to reach the next seed), so a
    /// compare-and-set holding an old version can never match. docs/store-format.md, section 4.1.</summary>
    internal const int SequenceSeedShift = 10;

    /// <summary>The seed stops growing at 2^52 microseconds (year 2112), which leaves at least 2^62 - 1 writes per store.</summary>
    internal const long MaxSequenceSeedMicroseconds = 1L << 52;

    internal static long InitialSequence(DateTime utcNow) =>
        Math.Clamp((utcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10, 0, MaxSequenceSeedMicroseconds) << SequenceSeedShift;

    /// <summary>Smallest arena: the header, a minimal index and some heap.</summary>
    internal const long MinArenaCapacity = 32 * 1024;

    /// <summary>No arena may be larger (256 TiB, past any machine's memory and far below the 2^51 bytes a slot word can
    /// address): a maximum capacity beyond it, at creation or read from an anchor, is refused before it is computed with.</summary>
    internal const long MaxCapacityLimit = 1L << 48;

    /// <summary>9999-12-31T23:59:59.999Z, the last time a record's timestamps can name.</summary>
    internal const long MaxUnixMilliseconds = 253402300799999L;

    /// <summary>Arena reference that marks a destroyed store (DestroyStore writes it before IPC_RMID).</summary>
    internal const ulong RemovedArenaRef = ulong.MaxValue;

    // ---- Arena header. ----
    /// <summary>"MEMARENA" read as a little-endian u64.</summary>
    internal const ulong ArenaMagic = 0x414E4552414D454D;
    internal const int ArenaHeaderSize = 128;
    internal const int ArenaMagicOffset = 0;            // u64
    internal const int ArenaVersionOffset = 8;          // u32 LayoutVersion
    internal const int ArenaGenerationOffset = 12;      // u32 generation (matches the anchor's reference)
    internal const int ArenaAnchorKeyOffset = 16;       // i32 key of the anchor that owns it
    internal const int ArenaCapacityOffset = 24;        // i64 bytes of the whole segment
    internal const int ArenaSlotCountOffset = 32;       // i64 index slots, a power of two
    internal const int ArenaHeapOffsetOffset = 40;      // i64 first heap byte (after the index, 64-aligned)
    internal const int ArenaSequenceOffset = 48;        // i64 store-wide write sequence (last version handed out)
    internal const int ArenaBumpOffset = 56;            // i64 next free heap byte (absolute offset)
    internal const int ArenaEntriesOffset = 64;         // i64 slots holding a record
    internal const int ArenaLiveBytesOffset = 72;       // i64 bytes of records referenced by the index
    internal const int ArenaTombstonesOffset = 80;      // i64 tombstoned slots
    internal const int ArenaGarbageBytesOffset = 88;    // i64 heap bytes no slot references
    internal const int ArenaNamespaceOffset = 96;       // u64 POSIX arenas on Linux: inode of the creator's IPC namespace; else 0

    // ---- Index: SlotCount u64 words from IndexOffset. ----
    internal const int IndexOffset = ArenaHeaderSize;
    internal const int SlotSize = 8;
    internal const ulong EmptySlot = 0;
    internal const ulong TombstoneSlot = 1;
    /// <summary>A slot word is tag &lt;&lt; 48 | (recordOffset &gt;&gt; 3): the tag is the name hash's top 16 bits.</summary>
    internal const int SlotTagShift = 48;
    internal const ulong SlotOffsetMask = (1UL << SlotTagShift) - 1;
    /// <summary>Rebuild when live + tombstoned slots would pass 70% of the index.</summary>
    internal const int MaxLoadPercent = 70;
    internal const long MinSlotCount = 1024;
    /// <summary>One slot per this many bytes of arena, so that small stacks fill heap and index together.</summary>
    internal const long BytesPerSlot = 256;

    // ---- Records: 8-aligned, immutable once published. ----
    internal const uint RecordMagic = 0x4345524D;       // "MREC"
    internal const int RecordHeaderSize = 64;
    internal const int RecordChecksumOffset = 0;        // u64 XxHash3 of bytes [8, valueOffset + valueLength), seed 0
    internal const int RecordMagicOffset = 8;           // u32
    internal const int RecordEncodingOffset = 12;       // u8 ValueEncoding
    internal const int RecordNameLengthOffset = 13;     // u8 1..255
    internal const int RecordTypeNameLengthOffset = 14; // u16 0..MaxTypeNameBytes
    internal const int RecordValueLengthOffset = 16;    // i64
    internal const int RecordVersionOffset = 24;        // i64
    internal const int RecordCreatedOffset = 32;        // i64 Unix ms
    internal const int RecordModifiedOffset = 40;       // i64 Unix ms
    internal const int RecordExpiresOffset = 48;        // i64 Unix ms, 0 = never
    internal const int RecordNameHashOffset = 56;       // u64 XxHash3 of the name bytes
    internal const int RecordNameOffset = 64;           // name bytes, type name bytes, pad to 8, value, pad to 8

    internal const int MaxNameBytes = 255;
    internal const int MaxTypeNameBytes = 4096;

    internal static long Align8(long value) => (value + 7) & ~7L;

    internal static long Align64(long value) => (value + 63) & ~63L;

    internal static long ValueOffset(int nameLength, int typeNameLength) => RecordNameOffset + Align8(nameLength + typeNameLength);

    internal static long RecordSize(int nameLength, int typeNameLength, long valueLength) =>
        ValueOffset(nameLength, typeNameLength) + Align8(valueLength);

    internal static long HeapOffsetFor(long slotCount) => Align64(IndexOffset + (slotCount * SlotSize));

    /// <summary>
    /// Whether an arena header's geometry, as read from shared memory, is possible: checked in an order in which no
    /// arithmetic can overflow (a slot count of 2^61 would otherwise wrap <see cref="HeapOffsetFor"/> to 128 and pass).
    /// Null when valid, else what is wrong.
    /// </summary>
    internal static string? GeometryProblem(long capacity, long slotCount, long heapOffset, long segmentSize) =>
        capacity < ArenaHeaderSize || capacity > segmentSize || (capacity & 7) != 0 ? "capacity outside the segment"
        : slotCount < 1 || slotCount > (capacity - IndexOffset) / SlotSize || (slotCount & (slotCount - 1)) != 0 ? "bad index size"
        : HeapOffsetFor(slotCount) > capacity ? "the index leaves no room for a heap"
        : heapOffset != HeapOffsetFor(slotCount) ? "bad heap offset"
        : null;

    /// <summary>Whether a maximum capacity read from an anchor (or given at creation) can be computed with.</summary>
    internal static bool IsValidMaxCapacity(long maxCapacity) => maxCapacity is >= MinArenaCapacity and <= MaxCapacityLimit;

    /// <summary>Whether a write sequence read from an arena header can hand out the next version: positive, and not
    /// at the end of the range (the next version must not overflow).</summary>
    internal static bool IsValidSequence(long sequence) => sequence is >= 0 and < long.MaxValue - 1;
}
