using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using Memalloc.Core;

namespace Memalloc.Fuzz;

/// <summary>
/// What one fuzz input means: a base store (a real one, <see cref="StoreShapes"/>) changed by the input's bytes.
/// <code>
/// byte 0        base shape (mod the number of shapes)
/// byte 1        layout flags (<see cref="FuzzFlags"/>): segment sizes and modes, an orphan segment, how to open
/// bytes 2..     the fields the store reads, region after region (<see cref="Regions"/>). Identity-bearing regions
///               (the anchor, the arena's magic/generation/key) are an XOR overlay: a zero byte leaves the base byte
///               alone, so the same input means the same change whatever the store's name and keys. The arena's
///               sizes, counters, used slots and first records are raw bytes (the seeds carry the base's), so that
///               AFL's interesting values and dictionary tokens land as whole values (a slot count of 2^61)
/// then          operations, each an opcode byte and its operands (<see cref="ApplyOperations"/>): slot links,
///               raw patches, extreme values, and the fix-ups a buggy writer would make (matching heap offset,
///               recomputed checksums) so that a change survives the first consistency check
/// </code>
/// Fields that name segments or processes hold symbols, resolved when the segments exist (<see cref="FuzzLayout"/>):
/// any value names one of the case's own segments or one that does not exist, never another program's segment, and a
/// lock word never names a live process other than this one (a live owner is waited for, by design).
/// </summary>
internal sealed class FuzzCase
{
    /// <summary>One overlay region: which segment, from where, how many bytes.</summary>
    private readonly record struct Region(FuzzSegment Segment, int Offset, int Length, bool FromHeap = false, bool UsedSlots = false,
        bool Raw = false, bool FirstNameTurn = false);

    private static readonly Region[] s_regions =
    [
        new(FuzzSegment.Anchor, 0, 120),                          // identity, maximum capacity, creation time, first capacity
        new(FuzzSegment.Anchor, Layout.LockWordOffset, 8),        // symbol
        new(FuzzSegment.Anchor, Layout.WriterStateOffset, 32),    // state, pending generation, key, shmid, previous shmid, capacity
        new(FuzzSegment.Anchor, Layout.ArenaRefOffset, 8),        // generation, shmid symbol
        new(FuzzSegment.Anchor, Layout.SpareRefOffset, 8),        // generation, shmid symbol
        new(FuzzSegment.Anchor, 0, Layout.TurnSize, FirstNameTurn: true), // the update turn of the first name: owner symbol, tickets
        new(FuzzSegment.Arena, 0, 24),                            // arena magic, version, generation, anchor key
        new(FuzzSegment.Arena, 24, 72, Raw: true),                // capacity, slot count, heap offset, sequence, bump, counters
        new(FuzzSegment.Arena, 0, 64, UsedSlots: true, Raw: true), // the first eight used index slots
        new(FuzzSegment.Arena, 0, 768, FromHeap: true, Raw: true), // the first records
        new(FuzzSegment.Spare, 0, 24),                            // the spare's identity
        new(FuzzSegment.Spare, 24, 72, Raw: true),                // the spare's geometry and counters
    ];

    internal const int HeaderBytes = 2;

    /// <summary>Input length that covers every overlay region: the length of the seeds.</summary>
    internal static int OverlayEnd { get; } = HeaderBytes + Sum();

    private FuzzCase(StoreShape shape, FuzzFlags flags, byte[] anchor, byte[] arena, byte[]? spare)
    {
        Shape = shape;
        Flags = flags;
        Anchor = anchor;
        Arena = arena;
        Spare = spare;
    }

    internal StoreShape Shape { get; }

    internal FuzzFlags Flags { get; }

    internal byte[] Anchor { get; }

    internal byte[] Arena { get; }

    internal byte[]? Spare { get; }

    private static int Sum()
    {
        var total = 0;
        foreach (var region in s_regions)
        {
            total += region.Length;
        }

        return total;
    }

    internal static FuzzCase Decode(IReadOnlyList<StoreShape> shapes, ReadOnlySpan<byte> input)
    {
        var shape = shapes[input.Length > 0 ? input[0] % shapes.Count : 0];
        var flags = (FuzzFlags)(input.Length > 1 ? input[1] : 0);
        var image = new FuzzCase(shape, flags, (byte[])shape.Anchor.Clone(), (byte[])shape.Arena.Clone(), (byte[]?)shape.Spare?.Clone());
        var position = HeaderBytes;
        foreach (var region in s_regions)
        {
            var bytes = input.Length > position ? input.Slice(position, Math.Min(region.Length, input.Length - position)) : default;
            image.Overlay(region, bytes);
            position += region.Length;
        }

        if (input.Length > OverlayEnd)
        {
            image.ApplyOperations(input[OverlayEnd..]);
        }

        return image;
    }

    private void Overlay(Region region, ReadOnlySpan<byte> bytes)
    {
        var segment = SegmentBytes(region.Segment);
        for (var i = 0; segment is not null && i < bytes.Length; i++)
        {
            var at = Position(Shape, region, i);
            if (at >= 0 && at < segment.Length)
            {
                segment[at] = region.Raw ? bytes[i] : (byte)(segment[at] ^ bytes[i]);
            }
        }
    }

    /// <summary>The segment offset of byte <paramref name="i"/> of a region, for this shape (-1: no such byte).</summary>
    private static int Position(StoreShape shape, Region region, int i)
    {
        if (region.FirstNameTurn)
        {
            return TurnOffset(shape) + i;
        }

        if (region.UsedSlots)
        {
            var slot = i / Layout.SlotSize;
            return slot < shape.UsedSlots.Length ? Layout.IndexOffset + (shape.UsedSlots[slot] * Layout.SlotSize) + (i % Layout.SlotSize) : -1;
        }

        return (region.FromHeap ? (int)BitConverter.ToInt64(shape.Arena, Layout.ArenaHeapOffsetOffset) : region.Offset) + i;
    }

    /// <summary>Where the update turn the harness takes (that of the shape's first stack name) lies in the anchor.</summary>
    internal static int TurnOffset(StoreShape shape) => Layout.TurnTableOffset + (Layout.TurnSize *
        UpdateTurns.TurnIndex(System.IO.Hashing.XxHash3.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(shape.FirstName))));

    /// <summary>Where byte <paramref name="offset"/> of the anchor (a field of the regions at fixed offsets) sits in an input.</summary>
    internal static int AnchorOverlayPosition(int offset)
    {
        var position = HeaderBytes;
        foreach (var region in s_regions)
        {
            if (region.Segment == FuzzSegment.Anchor && !region.FirstNameTurn && offset >= region.Offset && offset < region.Offset + region.Length)
            {
                return position + offset - region.Offset;
            }

            position += region.Length;
        }

        throw new ArgumentOutOfRangeException(nameof(offset), offset, "not in an anchor region of the overlay");
    }

    /// <summary>The input that lays out <paramref name="shape"/> unchanged: zeros in the XOR regions, the base's bytes in
    /// the raw ones.</summary>
    internal static byte[] Seed(StoreShape shape, int shapeIndex, FuzzFlags flags)
    {
        var input = new byte[OverlayEnd];
        input[0] = (byte)shapeIndex;
        input[1] = (byte)flags;
        var position = HeaderBytes;
        foreach (var region in s_regions)
        {
            var segment = region.Segment switch { FuzzSegment.Anchor => shape.Anchor, FuzzSegment.Arena => shape.Arena, _ => shape.Spare };
            for (var i = 0; region.Raw && segment is not null && i < region.Length; i++)
            {
                var at = Position(shape, region, i);
                input[position + i] = at >= 0 && at < segment.Length ? segment[at] : (byte)0;
            }

            position += region.Length;
        }

        return input;
    }

    private byte[]? SegmentBytes(FuzzSegment segment) => segment switch
    {
        FuzzSegment.Anchor => Anchor,
        FuzzSegment.Arena => Arena,
        _ => Spare,
    };

    /// <summary>Interesting values for <see cref="FuzzOperation.SetField"/>: the edges of signed and unsigned ranges
    /// and of the arena's own sizes.</summary>
    private long InterestingValue(int selector) => (selector % 16) switch
    {
        0 => 0,
        1 => 1,
        2 => -1,
        3 => int.MaxValue,
        4 => 1L << 32,
        5 => 1L << 60,
        6 => 1L << 61,
        7 => 1L << 62,
        8 => long.MinValue,
        9 => long.MaxValue,
        10 => Arena.Length,
        11 => Arena.Length + 8,
        12 => Arena.Length - 8,
        13 => BitConverter.ToInt64(Arena, Layout.ArenaHeapOffsetOffset),
        14 => BitConverter.ToInt64(Arena, Layout.ArenaBumpOffset),
        _ => 8,
    };

    private void ApplyOperations(ReadOnlySpan<byte> ops)
    {
        var reader = new OperandReader(ops);
        while (reader.TryByte(out var opcode))
        {
            switch ((FuzzOperation)(opcode % 6))
            {
                case FuzzOperation.LinkSlot when reader.TryUInt16(out var slot) && reader.TryByte(out var record) && Shape.RecordOffsets.Length > 0:
                    var offset = Shape.RecordOffsets[record % Shape.RecordOffsets.Length];
                    var nameHash = BitConverter.ToUInt64(Arena, (int)offset + Layout.RecordNameHashOffset);
                    SetSlot(slot, Core.Index.SlotWord(nameHash, offset));
                    break;
                case FuzzOperation.SetSlot when reader.TryUInt16(out var slot) && reader.TryUInt64(out var word):
                    SetSlot(slot, word);
                    break;
                case FuzzOperation.Patch when reader.TryByte(out var which) && reader.TryUInt32(out var at) && reader.TryByte(out var length):
                    var target = SegmentBytes((FuzzSegment)(which % 3)) ?? Arena;
                    var patch = reader.Take(length % 17);
                    var start = (int)(at % (uint)target.Length);
                    patch[..Math.Min(patch.Length, target.Length - start)].CopyTo(target.AsSpan(start));
                    break;
                case FuzzOperation.SetField when reader.TryByte(out var field) && reader.TryByte(out var value):
                    // The arena header's i64 fields: capacity, slot count, heap offset, sequence, bump, counters.
                    StoreShapes.Write(Arena, Layout.ArenaCapacityOffset + ((field % 9) * 8), InterestingValue(value));
                    break;
                case FuzzOperation.MatchHeapOffset:
                    StoreShapes.Write(Arena, Layout.ArenaHeapOffsetOffset, Layout.HeapOffsetFor(BitConverter.ToInt64(Arena, Layout.ArenaSlotCountOffset)));
                    break;
                case FuzzOperation.FixChecksums:
                    foreach (var recordOffset in Shape.RecordOffsets)
                    {
                        StoreShapes.FixChecksum(Arena, (int)recordOffset);
                    }

                    break;
                default:
                    return; // operands ran out
            }
        }
    }

    private void SetSlot(int slot, ulong word)
    {
        var slots = (int)Math.Min(BitConverter.ToInt64(Shape.Arena, Layout.ArenaSlotCountOffset), (Arena.Length - Layout.IndexOffset) / Layout.SlotSize);
        BinaryPrimitives.WriteUInt64LittleEndian(Arena.AsSpan(Layout.IndexOffset + ((slot % slots) * Layout.SlotSize)), word);
    }

    private ref struct OperandReader
    {
        private ReadOnlySpan<byte> _rest;

        internal OperandReader(ReadOnlySpan<byte> bytes)
        {
            _rest = bytes;
        }

        internal bool TryByte(out byte value)
        {
            value = _rest.Length >= 1 ? _rest[0] : (byte)0;
            return Advance(1);
        }

        internal bool TryUInt16(out ushort value)
        {
            value = _rest.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(_rest) : (ushort)0;
            return Advance(2);
        }

        internal bool TryUInt32(out uint value)
        {
            value = _rest.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(_rest) : 0;
            return Advance(4);
        }

        internal bool TryUInt64(out ulong value)
        {
            value = _rest.Length >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(_rest) : 0;
            return Advance(8);
        }

        internal ReadOnlySpan<byte> Take(int length)
        {
            var taken = _rest[..Math.Min(length, _rest.Length)];
            _rest = _rest[taken.Length..];
            return taken;
        }

        private bool Advance(int count)
        {
            if (_rest.Length < count)
            {
                _rest = default;
                return false;
            }

            _rest = _rest[count..];
            return true;
        }
    }
}

internal enum FuzzSegment
{
    Anchor = 0,
    Arena = 1,
    Spare = 2,
}

internal enum FuzzOperation
{
    LinkSlot = 0,
    SetSlot = 1,
    Patch = 2,
    SetField = 3,
    MatchHeapOffset = 4,
    FixChecksums = 5,
}

/// <summary>Layout choices of byte 1 of an input.</summary>
[Flags]
internal enum FuzzFlags : byte
{
    None = 0,
    /// <summary>The arena segment is one page larger than the arena's capacity.</summary>
    ArenaPageLarger = 1,
    /// <summary>The arena segment is one page smaller than its capacity says (with <see cref="ArenaPageLarger"/>: 4096 bytes).</summary>
    ArenaPageSmaller = 2,
    /// <summary>A segment at the arena key of the next generation, as a crashed growth leaves.</summary>
    Orphan = 4,
    /// <summary>The orphan is zero-filled (created, never initialised) rather than a copy of the arena.</summary>
    OrphanZeroed = 8,
    /// <summary>The anchor segment is 8192 bytes: not an anchor by its size.</summary>
    AnchorWrongSize = 16,
    /// <summary>The arena segment has mode 0640: group bits make it foreign.</summary>
    ArenaGroupReadable = 32,
    /// <summary>Open (creating the store when the anchor is refused) instead of OpenExisting.</summary>
    OpenCreating = 64,
    /// <summary>A second instance of the store reads after the first one wrote (it must follow a growth).</summary>
    SecondInstance = 128,
}
