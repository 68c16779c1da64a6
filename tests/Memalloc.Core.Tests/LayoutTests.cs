using System;
using Memalloc.Core;
using Xunit;

namespace Memalloc.Core.Tests;

public class LayoutTests
{
    [Fact]
    public void Anchor_fields_fit_their_page_and_hot_words_have_their_own_cache_lines()
    {
        Assert.True(Layout.AnchorStoreNameOffset + Layout.StoreNameMaxLength <= Layout.AnchorKeyOffset);
        Assert.Equal(0, Layout.LockWordOffset % 64);
        Assert.Equal(0, Layout.ArenaRefOffset % 64);
        Assert.True(Layout.PreviousShmIdOffset + 4 <= Layout.ArenaRefOffset);
        Assert.True(Layout.ArenaRefOffset + 8 <= Layout.AnchorSize);
        Assert.Equal(0x5248434E414D454DUL, BitConverter.ToUInt64("MEMANCHR"u8));
        Assert.Equal(Layout.ArenaMagic, BitConverter.ToUInt64("MEMARENA"u8));
        Assert.Equal(Layout.RecordMagic, BitConverter.ToUInt32("MREC"u8));
    }

    /// <summary>Issue 9, defect 3: the sequence seed grows with the creation time (one step per microsecond, so a
    /// store made again later starts higher), never goes negative, and always leaves 2^62 - 1 versions to hand out.</summary>
    [Fact]
    public void SequenceSeed_grows_with_creation_time_and_stays_far_from_overflow()
    {
        var now = DateTime.UtcNow;
        Assert.True(Layout.InitialSequence(now.AddTicks(10)) > Layout.InitialSequence(now));
        Assert.True(Layout.InitialSequence(now.AddHours(1)) > Layout.InitialSequence(now));
        Assert.Equal(0, Layout.InitialSequence(DateTime.UnixEpoch.AddDays(-1)));
        foreach (var time in new[] { now, new DateTime(2112, 1, 1, 0, 0, 0, DateTimeKind.Utc), DateTime.MaxValue })
        {
            var seed = Layout.InitialSequence(time);
            Assert.True(seed >= 0 && long.MaxValue - seed >= (1L << 62) - 1, $"seed {seed} for {time:o}");
        }
    }

    [Fact]
    public void Record_layout_is_8_aligned()
    {
        Assert.Equal(64, Layout.RecordHeaderSize);
        Assert.Equal(Layout.RecordHeaderSize, Layout.RecordNameOffset);
        Assert.Equal(64 + 8 + 8, Layout.RecordSize(1, 0, 1));
        Assert.Equal(64 + 256 + 0, Layout.RecordSize(255, 1, 0));
        Assert.Equal(0, Layout.RecordSize(3, 7, 13) % 8);
        Assert.Equal(Layout.IndexOffset + (1024 * 8), Layout.HeapOffsetFor(1024));
    }

    [Fact]
    public void Slot_words_keep_tag_and_offset_apart()
    {
        const ulong Hash = 0xABCD_1234_5678_9ABCUL;
        var word = Index.SlotWord(Hash, 1 << 30);
        Assert.Equal(1L << 30, Index.OffsetOf(word));
        Assert.Equal(0xABCDUL, word >> Layout.SlotTagShift);
        Assert.True(Index.HoldsRecord(word));
        Assert.False(Index.HoldsRecord(Layout.TombstoneSlot));
        Assert.False(Index.HoldsRecord(Layout.EmptySlot));
        // The smallest record offset (start of the heap) can never look like a tombstone or empty slot.
        Assert.True(Index.HoldsRecord(Index.SlotWord(0, Layout.HeapOffsetFor(Layout.MinSlotCount))));
    }

    [Fact]
    public void Index_size_follows_capacity_and_entries()
    {
        Assert.Equal(4096, Arena.SlotCountFor(1 << 20, 0));
        Assert.Equal(1024, Arena.SlotCountFor(64 * 1024, 0));
        Assert.Equal(1L << 21, Arena.SlotCountFor(1 << 20, 1_000_000));
        Assert.True(Layout.HeapOffsetFor(Arena.SlotCountFor(Layout.MinArenaCapacity, 0)) <= Layout.MinArenaCapacity / 2 + 64);
    }

    [Fact]
    public void Keys_are_per_user_store_and_probe_and_never_special()
    {
        var a = KeyDerivation.AnchorKey(1000, "default", 0);
        Assert.NotEqual(a, KeyDerivation.AnchorKey(1001, "default", 0));
        Assert.NotEqual(a, KeyDerivation.AnchorKey(1000, "Default", 0));
        Assert.NotEqual(a, KeyDerivation.AnchorKey(1000, "default", 1));
        Assert.Equal(a, KeyDerivation.AnchorKey(1000, "default", 0));
        Assert.NotEqual(KeyDerivation.ArenaKey(a, 1), KeyDerivation.ArenaKey(a, 2));
        for (var probe = 0; probe < 1000; probe++)
        {
            var key = KeyDerivation.AnchorKey(0, "s", probe);
            Assert.NotEqual(0, key);
            Assert.NotEqual(-1, key);
        }
    }
}
