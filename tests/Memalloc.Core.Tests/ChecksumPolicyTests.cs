using System;
using Memalloc.Core;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>
/// Where a read checks a record's checksum (docs/store-design.md, "Where the checksum is checked"): the first time a store
/// instance reads the record in an arena generation, not on every read. These tests pin down both halves of that promise:
/// damage present at the first read is reported, never returned, whatever the path (Get, CopyValue, TryGet, rented reads,
/// small and large values); damage done after it is still found by Verify, by every other instance, and by this one once
/// the arena moves to a new generation.
/// </summary>
public class ChecksumPolicyTests
{
    public static TheoryData<int> Sizes() => new(16, 1024, 64 * 1024, 64 * 1024 + 1, 1 << 20);

    private static byte[] Value(int size)
    {
        var value = new byte[size];
        new Random(size).NextBytes(value);
        return value;
    }

    private static unsafe void FlipLastValueByte(MemStore store, string name)
    {
        var info = store.GetInfo(name)!;
        store.WithArena((address, _) =>
        {
            var a = (byte*)address;
            var slots = *(long*)(a + Layout.ArenaSlotCountOffset);
            for (long i = 0; i < slots; i++)
            {
                var word = ((ulong*)(a + Layout.IndexOffset))[i];
                if (word > Layout.TombstoneSlot)
                {
                    var offset = Index.OffsetOf(word);
                    var nameLength = a[offset + Layout.RecordNameLengthOffset];
                    if (System.Text.Encoding.UTF8.GetString(a + offset + Layout.RecordNameOffset, nameLength) == name)
                    {
                        a[offset + Layout.ValueOffset(nameLength, 0) + info.Size - 1] ^= 0x01;
                        return;
                    }
                }
            }

            throw new InvalidOperationException($"No record named {name}.");
        });
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Damage_present_at_the_first_read_is_reported_by_every_read_path(int size)
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 8L << 20 });
        foreach (var name in new[] { "get", "copy", "tryget", "rent" })
        {
            t.Store.Set(name, Value(size));
            FlipLastValueByte(t.Store, name);
        }

        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => t.Store.Get("get")).Kind);
        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => t.Store.CopyValue("copy", new byte[size])).Kind);
        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => t.Store.TryGet("tryget", out _)).Kind);
        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => t.Store.TryGetRented("rent", out _)).Kind);

        // A failed check marks nothing: the damage is reported again, not returned the second time.
        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => t.Store.Get("get")).Kind);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Damage_after_the_first_read_is_found_by_Verify_and_by_other_instances(int size)
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 8L << 20 });
        var value = Value(size);
        t.Store.Set("v", value);
        Assert.Equal(value, t.Store.Get("v")); // checked here, once for this arena generation
        FlipLastValueByte(t.Store, "v");

        // This instance has checked the record and does not hash it again while its generation holds: the trade this
        // policy makes (the bytes of a record no writer may touch changed underneath).
        Assert.Equal(size, t.Store.Get("v")!.Length);

        Assert.Contains(t.Store.Verify().Problems, p => p.Contains("checksum", StringComparison.Ordinal));
        using var other = MemStore.Open(t.StoreName);
        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => other.Get("v")).Kind);
    }

    [Fact]
    public void A_record_is_checked_again_in_each_new_generation()
    {
        using var t = new TestStore();
        t.Store.Set("v", Value(4096));
        var before = t.Store.GetStatistics().Generation;
        Assert.NotNull(t.Store.Get("v"));
        FlipLastValueByte(t.Store, "v");

        // Overwrites of another stack until the arena is compacted (recycled or grown): a new generation.
        for (var i = 0; t.Store.GetStatistics().Generation == before; i++)
        {
            t.Store.Set("churn", Value(16 * 1024));
            Assert.True(i < 10_000, "the store never compacted");
        }

        Assert.Equal(MemStoreErrorKind.Corrupt, Assert.Throws<MemStoreException>(() => t.Store.Get("v")).Kind);
    }
}
