using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Memalloc.TestHost;
using Xunit;
using Xunit.Abstractions;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// Issue 9, defect 4: every header field of the anchor and the arena is read from memory anyone of the user can
/// write, so each is range-checked before any arithmetic. A store whose geometry fields hold hostile values
/// (2^60, 2^61, negative: values that wrap or overflow the derived sizes) is Corrupt, never a wild read or write;
/// derived counters are recounted; a sequence or maximum capacity out of range is Corrupt where it is used and
/// reported by Verify. Each case runs open, get, list, statistics, writes and Verify in a fresh child process, so a
/// segmentation fault shows as its exit code.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class HeaderValidationTests : ChildProcessTests
{
    private const int Names = 8;


    public HeaderValidationTests(ITestOutputHelper output)
        : base(output)
    {
    }

    public static TheoryData<string, long> HostileGeometry() => new()
    {
        { "slotCount", 1L << 61 },      // 128 + 8 * 2^61 wraps to 128: passed every check
        { "slotCount", 1L << 60 },      // 128 + 8 * 2^60 is negative
        { "slotCount", 1L << 62 },
        { "slotCount", long.MinValue },
        { "slotCount", -1 },
        { "slotCount", 1L << 17 },      // a power of two whose index is larger than the 1 MiB arena
        { "capacity", -4096 },
        { "capacity", 1L << 62 },
        { "heapOffset", 1L << 62 },
        { "heapOffset", -64 },
    };

    /// <summary>Slot count, capacity or heap offset out of range: the arena is refused as Corrupt at attach.</summary>
    [SysVTheory]
    [MemberData(nameof(HostileGeometry))]
    public void HostileArenaGeometry_IsCorrupt_NeverAWildAccess(string field, long value)
    {
        var lines = InspectWith(store =>
        {
            PatchArena(store, field, value);
            if (field == "slotCount")
            {
                // The heap offset an attacker would write to match: align64(128 + 8 * slotCount), wrapping as it did.
                PatchArena(store, "heapOffset", unchecked((128 + (value * 8) + 63) & ~63L));
            }
        });
        Assert.Contains("OPEN threw Corrupt", lines);
    }

    public static TheoryData<string, long> HostileCounters() => new()
    {
        { "entries", long.MaxValue },
        { "entries", long.MinValue },
        { "tombstones", long.MaxValue },
        { "liveBytes", long.MinValue },
        { "liveBytes", 1L << 62 },
        { "garbageBytes", -1 },
        { "bump", -8 },
        { "bump", 1L << 62 },
        { "bump", long.MaxValue },
        { "writerState", 7 },
        { "spareRef", (5L << 32) | 0x7FFFFFF0 },
    };

    /// <summary>Counters and the bump pointer are derived data: a writer recounts them instead of trusting them, and
    /// everything keeps working, the data intact.</summary>
    [SysVTheory]
    [MemberData(nameof(HostileCounters))]
    public void HostileCounters_AreRecounted_AndTheStoreKeepsWorking(string field, long value)
    {
        var lines = InspectWith(store => PatchField(store, field, value));
        AssertDataIntact(lines);
        Assert.Contains("WRITE ok", lines);
        Assert.Contains(lines, l => l.StartsWith("VERIFY-AFTER-WRITE valid", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("BIGWRITE ok", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("VERIFY-AFTER-BIGWRITE valid", StringComparison.Ordinal));
    }

    public static TheoryData<string, long> HostileLimits() => new()
    {
        { "sequence", long.MaxValue },
        { "sequence", long.MaxValue - 1 },
        { "sequence", -1 },
        { "sequence", long.MinValue },
        { "maxCapacity", -1 },
        { "maxCapacity", 0 },
        { "maxCapacity", 1L << 62 },
        { "maxCapacity", long.MaxValue },
    };

    /// <summary>A write sequence that would overflow (or is negative), or a maximum capacity outside what any store
    /// can have: reads go on; the write that would use the field fails with Corrupt, and Verify reports it.</summary>
    [SysVTheory]
    [MemberData(nameof(HostileLimits))]
    public void HostileSequenceOrMaxCapacity_IsCorrupt_WhereUsed(string field, long value)
    {
        var lines = InspectWith(store => PatchField(store, field, value));
        AssertDataIntact(lines);
        Assert.Contains(lines, l => l.StartsWith("VERIFY invalid", StringComparison.Ordinal));
        var write = field == "sequence" ? lines.Single(l => l.StartsWith("WRITE", StringComparison.Ordinal)) : lines.Single(l => l.StartsWith("BIGWRITE", StringComparison.Ordinal));
        Assert.Equal(field == "sequence" ? "WRITE threw Corrupt" : "BIGWRITE threw Corrupt", write);
    }

    private static void AssertDataIntact(List<string> lines)
    {
        Assert.Contains("OPEN ok", lines);
        Assert.Contains($"LIST ok {Names}", lines);
        Assert.Contains(lines, l => l.StartsWith("STATS ok", StringComparison.Ordinal));
        for (var i = 0; i < Names; i++)
        {
            var got = lines.Single(l => l.StartsWith($"GOT n{i} ", StringComparison.Ordinal));
            Assert.True(got.StartsWith($"GOT n{i} ok ", StringComparison.Ordinal), got);
        }
    }

    /// <summary>Makes a store of <see cref="Names"/> stacks, lets <paramref name="corrupt"/> change it (its segments are
    /// still there, the instance disposed), and inspects it from a child process; the inspection must end normally.</summary>
    private List<string> InspectWith(Action<StoreSegments> corrupt)
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        try
        {
            StoreSegments segments;
            using (var store = MemStore.Open(storeName))
            {
                janitor.TrackStore(store);
                for (var i = 0; i < Names; i++)
                {
                    var name = "n" + i.ToString(CultureInfo.InvariantCulture);
                    store.Set(name, Payload.Create(name, 1, i + 1, 300));
                }

                var ids = store.GetStatistics().SegmentIds;
                segments = new StoreSegments(ids[0], ids[1]);
            }

            corrupt(segments);
            var lines = Inspect(storeName, Names, TimeSpan.FromSeconds(120), "--big-write", "1100000");
            Assert.DoesNotContain(lines, l => l.Contains(" bad ", StringComparison.Ordinal));
            return lines;
        }
        finally
        {
            DestroyQuietly(storeName, null);
        }
    }

    private static void PatchField(StoreSegments store, string field, long value)
    {
        switch (field)
        {
            case "maxCapacity":
                Put64(store.Anchor, Layout.AnchorMaxCapacityOffset, value);
                break;
            case "writerState":
                Put64(store.Anchor, Layout.WriterStateOffset, value & 0xFFFFFFFF, bytes: 4);
                break;
            case "spareRef":
                Put64(store.Anchor, Layout.SpareRefOffset, value);
                break;
            default:
                PatchArena(store, field, value);
                break;
        }
    }

    private static void PatchArena(StoreSegments store, string field, long value)
    {
        var offset = field switch
        {
            "capacity" => Layout.ArenaCapacityOffset,
            "slotCount" => Layout.ArenaSlotCountOffset,
            "heapOffset" => Layout.ArenaHeapOffsetOffset,
            "sequence" => Layout.ArenaSequenceOffset,
            "bump" => Layout.ArenaBumpOffset,
            "entries" => Layout.ArenaEntriesOffset,
            "liveBytes" => Layout.ArenaLiveBytesOffset,
            "tombstones" => Layout.ArenaTombstonesOffset,
            "garbageBytes" => Layout.ArenaGarbageBytesOffset,
            _ => throw new ArgumentOutOfRangeException(nameof(field), field, null),
        };
        Put64(store.Arena, offset, value);
    }

    private static void Put64(int shmId, int offset, long value, int bytes = 8)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
        SysVTestNative.WriteSegment(shmId, offset, buffer[..bytes]);
    }

    private readonly record struct StoreSegments(int Anchor, int Arena);
}
