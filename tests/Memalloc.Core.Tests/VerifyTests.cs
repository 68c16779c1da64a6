using System;
using System.Linq;
using System.Runtime.InteropServices;
using Memalloc.Core;
using Xunit;

namespace Memalloc.Core.Tests;

public class VerifyTests
{
    private static TestStore Filled()
    {
        var t = new TestStore();
        for (var i = 0; i < 100; i++)
        {
            t.Store.Set("k" + i, new byte[] { (byte)i, 1, 2, 3, 4, 5, 6, 7 });
        }

        t.Store.Remove("k5");
        t.Store.Set("k6", "overwritten"u8);
        return t;
    }

    /// <summary>Offset of the record a name's slot points at, found by walking the index.</summary>
    private static unsafe long RecordOffset(MemStore store, string name)
    {
        long found = -1;
        store.WithArena((address, capacity) =>
        {
            var a = (byte*)address;
            var slots = *(long*)(a + Layout.ArenaSlotCountOffset);
            for (long i = 0; i < slots; i++)
            {
                var word = ((ulong*)(a + Layout.IndexOffset))[i];
                if (word > 1)
                {
                    var offset = Index.OffsetOf(word);
                    var nameLength = a[offset + Layout.RecordNameLengthOffset];
                    if (System.Text.Encoding.UTF8.GetString(a + offset + Layout.RecordNameOffset, nameLength) == name)
                    {
                        found = offset;
                    }
                }
            }
        });
        return found;
    }

    [Fact]
    public void A_healthy_store_verifies_clean()
    {
        using var t = Filled();
        var report = t.Store.Verify();
        Assert.True(report.IsValid, string.Join("\n", report.Problems));
        Assert.Equal(99, report.EntriesChecked);
        Assert.Equal(101, report.RecordsChecked); // 100 + the overwrite; the replaced record is garbage but still walked
        Assert.Equal(t.StoreName, report.Store);
    }

    [Fact]
    public unsafe void A_flipped_value_byte_is_reported_and_never_returned()
    {
        using var t = Filled();
        var offset = RecordOffset(t.Store, "k42");
        t.Store.WithArena((address, _) => ((byte*)address)[offset + Layout.ValueOffset(3, 0)] ^= 0xFF);
        var report = t.Store.Verify();
        Assert.False(report.IsValid);
        Assert.Contains(report.Problems, p => p.Contains("checksum", StringComparison.Ordinal));
        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => t.Store.Get("k42")).Kind);
        Assert.Equal(new byte[] { 41, 1, 2, 3, 4, 5, 6, 7 }, t.Store.Get("k41"));
    }

    [Fact]
    public unsafe void A_slot_pointing_outside_the_heap_is_reported()
    {
        using var t = Filled();
        t.Store.WithArena((address, capacity) =>
        {
            var a = (byte*)address;
            var slots = (ulong*)(a + Layout.IndexOffset);
            var count = *(long*)(a + Layout.ArenaSlotCountOffset);
            for (long i = 0; i < count; i++)
            {
                if (slots[i] > 1)
                {
                    slots[i] = (slots[i] & ~Layout.SlotOffsetMask) | ((ulong)(capacity + 4096) >> 3);
                    break;
                }
            }
        });
        var report = t.Store.Verify();
        Assert.False(report.IsValid);
        Assert.Contains(report.Problems, p => p.Contains("not a valid record", StringComparison.Ordinal));
        // A listing never follows the bad offset: it reports corruption.
        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => t.Store.ListNames()).Kind);
    }

    [Fact]
    public unsafe void Broken_counters_headers_and_names_are_all_reported()
    {
        using var t = Filled();
        var offset = RecordOffset(t.Store, "k10");
        t.Store.WithArena((address, _) =>
        {
            var a = (byte*)address;
            *(long*)(a + Layout.ArenaEntriesOffset) += 3;
            *(long*)(a + Layout.ArenaLiveBytesOffset) -= 8;
            a[offset + Layout.RecordNameOffset + 1] = (byte)'X'; // k10 -> kX0: hash and checksum no longer match
        });
        var report = t.Store.Verify();
        Assert.False(report.IsValid);
        Assert.Contains(report.Problems, p => p.Contains("'entries'", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.Contains("'live bytes'", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.Contains("name hash", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.Contains("checksum", StringComparison.Ordinal));
        Assert.True(report.Problems.Count >= 4);
    }

    [Fact]
    public unsafe void A_broken_heap_record_stops_the_walk_with_a_report()
    {
        using var t = Filled();
        var offset = RecordOffset(t.Store, "k0");
        t.Store.WithArena((address, _) => *(uint*)((byte*)address + offset + Layout.RecordMagicOffset) = 0xDEADBEEF);
        var report = t.Store.Verify();
        Assert.False(report.IsValid);
        Assert.Contains(report.Problems, p => p.StartsWith("heap:", StringComparison.Ordinal));
        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => t.Store.Get("k0")).Kind);
    }

    [Fact]
    public unsafe void A_duplicate_name_in_the_index_is_reported()
    {
        using var t = new TestStore();
        t.Store.Set("a", "1"u8);
        var offset = RecordOffset(t.Store, "a");
        t.Store.WithArena((address, _) =>
        {
            var a = (byte*)address;
            var slots = (ulong*)(a + Layout.IndexOffset);
            var count = *(long*)(a + Layout.ArenaSlotCountOffset);
            var hash = System.IO.Hashing.XxHash3.HashToUInt64("a"u8);
            var home = (long)(hash & (ulong)(count - 1));
            slots[(home + 1) % count] = Index.SlotWord(hash, offset);
            *(long*)(a + Layout.ArenaEntriesOffset) += 1;
            *(long*)(a + Layout.ArenaLiveBytesOffset) *= 2;
            *(long*)(a + Layout.ArenaGarbageBytesOffset) -= *(long*)(a + Layout.ArenaLiveBytesOffset) / 2;
        });
        var report = t.Store.Verify();
        Assert.Contains(report.Problems, p => p.Contains("duplicate", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_after_growth_and_expiry_is_clean()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024 });
        for (var i = 0; i < 500; i++)
        {
            t.Store.TrySet("e" + i, new byte[300], new WriteOptions { Expires = DateTime.UtcNow.AddMinutes(i % 2 == 0 ? 1 : 60) }, out _);
        }

        var report = t.Store.Verify();
        Assert.True(report.IsValid, string.Join("\n", report.Problems.Take(5)));
    }
}

public class CorruptHeaderTests
{
    [Fact]
    public unsafe void An_overwritten_generation_in_the_current_arena_is_Corrupt_not_a_hang()
    {
        using var t = new TestStore();
        t.Store.Set("a", "1"u8);
        t.Store.WithArena((address, _) => *(uint*)((byte*)address + Layout.ArenaGenerationOffset) += 7);
        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => t.Store.Get("a")).Kind);
        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => t.Store.Exists("a")).Kind);
        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => t.Store.ListNames()).Kind);
        Assert.False(t.Store.Verify().IsValid);
        t.Store.WithArena((address, _) => *(uint*)((byte*)address + Layout.ArenaGenerationOffset) -= 7);
        Assert.Equal("1"u8.ToArray(), t.Store.Get("a"));
    }
}
