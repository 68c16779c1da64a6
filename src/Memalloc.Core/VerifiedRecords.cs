using System;
using System.Threading;

namespace Memalloc.Core;

/// <summary>
/// The records of one arena generation whose checksum this process has checked: a read of such a record copies without
/// hashing it again (docs/store-design.md, "Where the checksum is checked"). Records never
/// change while their generation holds, and a view lives for one generation, so a mark is never stale.
/// One bit per 64 bytes of heap: records start 8-aligned and are at least 72 bytes long, so no two records share a bit.
/// Chunks of the bitmap are allocated when a record in them is first marked: a process pays for the part it reads.
/// Thread-safe; a mark another thread sets may be seen late, which only costs a second check.
/// </summary>
internal sealed class VerifiedRecords
{
    /// <summary>Heap bytes per bit: less than the smallest record (<see cref="Layout.RecordNameOffset"/> + 8).</summary>
    private const int BytesPerBitShift = 6;

    /// <summary>Bits per chunk: 2^15 (a 4 KiB chunk covers 2 MiB of heap).</summary>
    private const int ChunkBitsShift = 15;

    private readonly long _heapOffset;
    private readonly ulong[]?[] _chunks;

    internal VerifiedRecords(long heapOffset, long capacity)
    {
        _heapOffset = heapOffset;
        var bits = Math.Max(1, (capacity - heapOffset) >> BytesPerBitShift);
        _chunks = new ulong[]?[(int)((bits + (1L << ChunkBitsShift) - 1) >> ChunkBitsShift)];
    }

    /// <summary>True when the record at <paramref name="offset"/> (a checked record offset of this arena) is marked.</summary>
    internal bool Contains(long offset)
    {
        var bit = (offset - _heapOffset) >> BytesPerBitShift;
        var chunk = Volatile.Read(ref _chunks[(int)(bit >> ChunkBitsShift)]);
        return chunk is not null && (Volatile.Read(ref chunk[(int)(bit & ((1 << ChunkBitsShift) - 1)) >> 6]) & (1UL << (int)(bit & 63))) != 0;
    }

    /// <summary>Marks the record at <paramref name="offset"/> as checked.</summary>
    internal void Add(long offset)
    {
        var bit = (offset - _heapOffset) >> BytesPerBitShift;
        ref var slot = ref _chunks[(int)(bit >> ChunkBitsShift)];
        var chunk = Volatile.Read(ref slot);
        if (chunk is null)
        {
            var fresh = new ulong[(1 << ChunkBitsShift) / 64];
            chunk = Interlocked.CompareExchange(ref slot, fresh, null) ?? fresh;
        }

        Interlocked.Or(ref chunk[(int)(bit & ((1 << ChunkBitsShift) - 1)) >> 6], 1UL << (int)(bit & 63));
    }
}
