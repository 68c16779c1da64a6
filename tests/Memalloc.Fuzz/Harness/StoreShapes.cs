using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Memalloc.Core;
using Memalloc.Core.Native;

namespace Memalloc.Fuzz;

/// <summary>A real store's segments, copied out after a few operations and normalised, that fuzz inputs start from.</summary>
internal sealed class StoreShape
{
    internal required string Name { get; init; }

    /// <summary>The anchor page, its shmid fields holding symbols (see <see cref="FuzzCase"/>), not shmids.</summary>
    internal required byte[] Anchor { get; init; }

    internal required byte[] Arena { get; init; }

    /// <summary>The spare arena the store kept after a compaction, or null.</summary>
    internal byte[]? Spare { get; init; }

    internal required string[] StackNames { get; init; }

    /// <summary>Offsets of the records on the arena's heap walk (the "record k" of an input's link operations).</summary>
    internal required long[] RecordOffsets { get; init; }

    /// <summary>Indexes of the arena's index slots that hold something (the used-slot overlay's targets).</summary>
    internal required int[] UsedSlots { get; init; }

    internal uint Generation => BitConverter.ToUInt32(Arena, Layout.ArenaGenerationOffset);

    /// <summary>The name the harness writes, compare-and-sets and takes the update turn of.</summary>
    internal string FirstName => StackNames.Length > 0 ? StackNames[0] : "fz-new";
}

/// <summary>
/// Builds the base stores of the fuzzer with the real store (so every byte is what the store itself writes), under the
/// harness's store name, and normalises what would differ between runs (clock times, the sequence's starting point,
/// shmids) so that the same input lays out the same bytes in every run: an AFL finding replays in xunit.
/// </summary>
internal static unsafe class StoreShapes
{
    internal const long CreatedMs = 1_700_000_000_000;       // 2023-11-14, any fixed past time
    internal const long ExpiredMs = 946_684_800_000;          // 2000-01-01: names starting "exp-" are expired
    internal const long FarFutureMs = 4_102_444_800_000;      // 2100-01-01: other expiring names stay live
    internal const long MaxCapacity = 1L << 20;

    private static readonly DateTime s_farFuture = DateTime.UnixEpoch.AddMilliseconds(FarFutureMs);

    /// <summary>Small arenas: growth and compaction are a few writes away.</summary>
    private static readonly MemStoreOptions s_small = new() { InitialCapacity = 32 * 1024, MaxCapacity = MaxCapacity };

    internal static StoreShape[] Build(string storeName) =>
    [
        Make(storeName, "empty", s_small, _ => { }),
        Make(storeName, "three", s_small, s =>
        {
            s.Set("alpha", Bytes(16, 1));
            s.TrySet("beta", "<Objs Version=\"1.1.0.1\"><S>b</S></Objs>"u8, new WriteOptions { Encoding = ValueEncoding.CliXml, TypeName = "System.String" }, out _);
            s.TrySet("gamma", Bytes(100, 3), new WriteOptions { Expires = s_farFuture }, out _);
        }),
        Make(storeName, "churn", s_small, s =>
        {
            for (var round = 0; round < 3; round++)
            {
                for (var i = 0; i < 6; i++)
                {
                    s.Set("n" + i.ToString(CultureInfo.InvariantCulture), Bytes(8 + (40 * round) + i, round + i));
                }
            }

            s.Remove("n1");
            s.Remove("n4");
            s.TrySet("exp-x", Bytes(24, 9), new WriteOptions { Expires = s_farFuture }, out _);
        }),
        Make(storeName, "spare", s_small, s =>
        {
            for (var i = 0; i < 400 && s.SpareShmId < 0; i++)
            {
                s.Set("k" + (i % 4).ToString(CultureInfo.InvariantCulture), Bytes(900, i));
            }

            s.Set("after", Bytes(32, 7));
        }),
        Make(storeName, "large", new MemStoreOptions { InitialCapacity = 256 * 1024, MaxCapacity = MaxCapacity }, s =>
        {
            s.Set("big", Bytes(70_000, 5)); // past the 64 KiB in-place hash limit: the copy-and-hash read path
            s.Set("small", Bytes(8, 6));
        }),
        Make(storeName, "many", s_small, s =>
        {
            for (var i = 0; i < 60; i++)
            {
                s.Set("s" + i.ToString("D3", CultureInfo.InvariantCulture), Bytes(24, i));
            }
        }),
    ];

    internal static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31) + (seed * 7) + 1);
        }

        return bytes;
    }

    private static StoreShape Make(string storeName, string shapeName, MemStoreOptions options, Action<MemStore> fill)
    {
        MemStore.DestroyStore(storeName);
        var store = MemStore.Open(storeName, options);
        try
        {
            fill(store);
            var names = store.ListNames().ToList();
            byte[] anchor = new byte[Layout.AnchorSize];
            byte[] arena = [];
            store.WithAnchor(address => new ReadOnlySpan<byte>((void*)address, Layout.AnchorSize).CopyTo(anchor));
            store.WithArena((address, capacity) => arena = new ReadOnlySpan<byte>((void*)address, checked((int)capacity)).ToArray());
            var spare = store.SpareShmId >= 0 ? CopySegment(store.SpareShmId) : null;
            foreach (var name in ExpiringNames(arena))
            {
                if (!names.Contains(name))
                {
                    names.Add(name);
                }
            }

            Normalise(anchor, arena, spare);
            return new StoreShape
            {
                Name = shapeName,
                Anchor = anchor,
                Arena = arena,
                Spare = spare,
                StackNames = [.. names],
                RecordOffsets = HeapWalk(arena).ToArray(),
                UsedSlots = UsedSlotsOf(arena),
            };
        }
        finally
        {
            store.Dispose();
            MemStore.DestroyStore(storeName);
        }
    }

    private static byte[] CopySegment(int shmId)
    {
        if (!Libc.TryStat(shmId, out var status, out _))
        {
            throw new InvalidOperationException($"The spare arena {shmId} vanished while the fuzzer's base stores were built.");
        }

        using var attachment = Libc.ShmAt(shmId, status.Size, out var errno)
            ?? throw new InvalidOperationException($"shmat of the spare arena {shmId} failed: errno {errno}.");
        return new ReadOnlySpan<byte>(attachment.Address, checked((int)status.Size)).ToArray();
    }

    /// <summary>Fixed clock times, versions counted from 1, and symbols in place of shmids and lock words.</summary>
    private static void Normalise(byte[] anchor, byte[] arena, byte[]? spare)
    {
        // Versions from 1 (a store may seed its sequence from the clock), the same base for arena and spare.
        var versionBase = Math.Min(BitConverter.ToInt64(arena, Layout.ArenaSequenceOffset), MinVersion(arena, spare)) - 1;
        NormaliseArena(arena, versionBase);
        if (spare is not null)
        {
            NormaliseArena(spare, versionBase);
        }

        Write(anchor, Layout.AnchorMaxCapacityOffset, MaxCapacity);
        Write(anchor, Layout.AnchorCreatedOffset, CreatedMs);
        Write(anchor, Layout.LockWordOffset, 0L);
        Write(anchor, Layout.WriterStateOffset, 0);
        Write(anchor, Layout.PendingGenerationOffset, 0);
        Write(anchor, Layout.PendingKeyOffset, 0);
        Write(anchor, Layout.PendingShmIdOffset, -1);
        Write(anchor, Layout.PreviousShmIdOffset, -1);
        Write(anchor, Layout.PendingCapacityOffset, 0L);
        Write(anchor, Layout.ArenaRefOffset, (long)((ulong)BitConverter.ToUInt32(arena, Layout.ArenaGenerationOffset) << 32));
        Write(anchor, Layout.SpareRefOffset, spare is null ? 0L : (long)((ulong)BitConverter.ToUInt32(spare, Layout.ArenaGenerationOffset) << 32));
    }

    private static long MinVersion(byte[] arena, byte[]? spare)
    {
        var min = long.MaxValue;
        foreach (var segment in spare is null ? new[] { arena } : [arena, spare])
        {
            foreach (var offset in HeapWalk(segment))
            {
                min = Math.Min(min, BitConverter.ToInt64(segment, (int)offset + Layout.RecordVersionOffset));
            }
        }

        return min;
    }

    private static void NormaliseArena(byte[] arena, long versionBase)
    {
        Write(arena, Layout.ArenaSequenceOffset, BitConverter.ToInt64(arena, Layout.ArenaSequenceOffset) - versionBase);
        var index = 0;
        foreach (var offset in HeapWalk(arena))
        {
            var o = (int)offset;
            Write(arena, o + Layout.RecordVersionOffset, BitConverter.ToInt64(arena, o + Layout.RecordVersionOffset) - versionBase);
            Write(arena, o + Layout.RecordCreatedOffset, CreatedMs + index);
            Write(arena, o + Layout.RecordModifiedOffset, CreatedMs + index);
            if (BitConverter.ToInt64(arena, o + Layout.RecordExpiresOffset) != 0)
            {
                var name = System.Text.Encoding.UTF8.GetString(arena, o + Layout.RecordNameOffset, arena[o + Layout.RecordNameLengthOffset]);
                Write(arena, o + Layout.RecordExpiresOffset, name.StartsWith("exp-", StringComparison.Ordinal) ? ExpiredMs : FarFutureMs);
            }

            FixChecksum(arena, o);
            index++;
        }
    }

    /// <summary>Recomputes the checksum of the record at <paramref name="offset"/> when its lengths keep it inside the segment.</summary>
    internal static bool FixChecksum(byte[] segment, int offset)
    {
        if (offset < 0 || offset > segment.Length - Layout.RecordHeaderSize)
        {
            return false;
        }

        int nameLength = segment[offset + Layout.RecordNameLengthOffset];
        int typeNameLength = BitConverter.ToUInt16(segment, offset + Layout.RecordTypeNameLengthOffset);
        var valueLength = BitConverter.ToInt64(segment, offset + Layout.RecordValueLengthOffset);
        if (valueLength < 0 || valueLength > segment.Length || offset + Layout.RecordSize(nameLength, typeNameLength, valueLength) > segment.Length)
        {
            return false;
        }

        fixed (byte* record = &segment[offset])
        {
            Write(segment, offset + Layout.RecordChecksumOffset, (long)Heap.Checksum(record, nameLength, typeNameLength, valueLength));
        }

        return true;
    }

    /// <summary>Record offsets from the heap's start to the bump pointer, as long as the records are well formed.</summary>
    internal static IEnumerable<long> HeapWalk(byte[] arena)
    {
        var heap = BitConverter.ToInt64(arena, Layout.ArenaHeapOffsetOffset);
        var bump = Math.Min(BitConverter.ToInt64(arena, Layout.ArenaBumpOffset), arena.Length);
        for (var offset = heap; offset >= Layout.ArenaHeaderSize && offset + Layout.RecordHeaderSize <= bump;)
        {
            var o = (int)offset;
            if (BitConverter.ToUInt32(arena, o + Layout.RecordMagicOffset) != Layout.RecordMagic)
            {
                yield break;
            }

            yield return offset;
            offset += Layout.RecordSize(arena[o + Layout.RecordNameLengthOffset], BitConverter.ToUInt16(arena, o + Layout.RecordTypeNameLengthOffset),
                BitConverter.ToInt64(arena, o + Layout.RecordValueLengthOffset));
        }
    }

    private static IEnumerable<string> ExpiringNames(byte[] arena) =>
        HeapWalk(arena).Where(o => BitConverter.ToInt64(arena, (int)o + Layout.RecordExpiresOffset) != 0)
            .Select(o => System.Text.Encoding.UTF8.GetString(arena, (int)o + Layout.RecordNameOffset, arena[(int)o + Layout.RecordNameLengthOffset]));

    private static int[] UsedSlotsOf(byte[] arena)
    {
        var slots = BitConverter.ToInt64(arena, Layout.ArenaSlotCountOffset);
        var used = new List<int>();
        for (var i = 0; i < slots; i++)
        {
            if (BitConverter.ToUInt64(arena, Layout.IndexOffset + (i * Layout.SlotSize)) != Layout.EmptySlot)
            {
                used.Add(i);
            }
        }

        return [.. used];
    }

    internal static void Write(byte[] segment, int offset, long value) => BitConverter.TryWriteBytes(segment.AsSpan(offset), value);

    internal static void Write(byte[] segment, int offset, int value) => BitConverter.TryWriteBytes(segment.AsSpan(offset), value);
}
