using System;
using System.Linq;
using System.Text;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>The byte formats of lock and queue records (docs/store-format.md §11, §12) and the lock-waiter slots, as a
/// reader in another language would meet them.</summary>
public sealed unsafe class CoordinationRecordTests
{
    [Fact]
    public void Names_hash_with_XXH3_128_in_its_canonical_big_endian_form()
    {
        // XXH3_128bits("jobs") from the reference C library (libxxhash 0.8.1), high 64 bits first.
        var expected = Convert.FromHexString("f3446c5d9c7e48dfb1d5a7c827539a00");
        Span<byte> lockName = stackalloc byte[CoordinationRecords.LockNameLength];
        CoordinationRecords.LockName("jobs"u8, lockName);

        Assert.Equal((byte)RecordKind.Lock, lockName[0]);
        Assert.Equal(expected, lockName[1..].ToArray());
    }

    [Fact]
    public void Item_names_carry_the_queue_hash_and_sort_in_item_order()
    {
        Span<byte> hash = stackalloc byte[CoordinationRecords.NameHashLength];
        CoordinationRecords.QueueNameHash("jobs"u8, hash);
        var first = new byte[CoordinationRecords.ItemNameLength];
        var second = new byte[CoordinationRecords.ItemNameLength];
        CoordinationRecords.ItemName(hash, 255, first);
        CoordinationRecords.ItemName(hash, 256, second);

        Assert.True(CoordinationRecords.TryParseItemName(second, out var parsedHash, out var number));
        Assert.Equal(256, number);
        Assert.Equal(hash.ToArray(), parsedHash.ToArray());
        Assert.True(first.AsSpan().SequenceCompareTo(second) < 0);
        Assert.True(CoordinationRecords.IsSystemName(first));
        Assert.False(CoordinationRecords.TryParseItemName(first.AsSpan(0, 24), out _, out _));
        Assert.False(CoordinationRecords.IsSystemName("jobs"u8));
    }

    [Fact]
    public void A_queue_head_round_trips_and_a_broken_one_is_refused()
    {
        var bytes = new byte[QueueHead.Size];
        new QueueHead(10, 15, 500).Write(bytes);
        Assert.Equal(new QueueHead(10, 15, 500), QueueHead.TryRead(bytes));
        Assert.Equal(5, QueueHead.TryRead(bytes)!.Value.Count);

        Assert.Null(QueueHead.TryRead(bytes.AsSpan(0, 31)));
        new QueueHead(16, 15, 0).Write(bytes);
        Assert.Null(QueueHead.TryRead(bytes)); // first past next
        new QueueHead(1, 1, -1).Write(bytes);
        Assert.Null(QueueHead.TryRead(bytes));
        new QueueHead(1, 1, 0).Write(bytes);
        bytes[31] = 1;
        Assert.Null(QueueHead.TryRead(bytes)); // reserved
    }

    [Fact]
    public void A_lock_value_round_trips_and_a_broken_one_is_refused()
    {
        var name = Encoding.UTF8.GetBytes("déploiement");
        var bytes = new byte[LockRecord.SizeFor(name.Length)];
        new LockRecord(0x8000_0001_0000_1234UL, 7, "déploiement").Write(name, bytes);
        Assert.Equal(new LockRecord(0x8000_0001_0000_1234UL, 7, "déploiement"), LockRecord.TryRead(bytes));

        Assert.Null(LockRecord.TryRead(bytes.AsSpan(0, bytes.Length - 1))); // name length does not match
        Assert.Null(LockRecord.TryRead(bytes.AsSpan(0, 23)));
        var noHolder = (byte[])bytes.Clone();
        noHolder.AsSpan(8, 8).Clear();
        Assert.Null(LockRecord.TryRead(noHolder));
        var badUtf8 = (byte[])bytes.Clone();
        badUtf8[^1] = 0xFF;
        Assert.Null(LockRecord.TryRead(badUtf8));
    }

    [Fact]
    public void Lock_waiter_slots_count_live_waiters_per_lock_and_free_those_of_dead_processes()
    {
        var anchor = stackalloc byte[4096];
        new Span<byte>(anchor, 4096).Clear();
        var a = LockWaiterSlots.Claim(anchor, 1);
        var b = LockWaiterSlots.Claim(anchor, 1);
        var c = LockWaiterSlots.Claim(anchor, 2);
        Assert.Equal(3, new[] { a, b, c }.Distinct().Count());

        // A slot left by a process that no longer exists (pid 2^22, above any pid_max).
        var dead = (ulong*)(anchor + CoordinationLayout.LockWaiterTableOffset + (31 * CoordinationLayout.LockWaiterSize));
        dead[0] = 0x8000_0000_0040_0000UL;
        dead[1] = 1;

        var counts = LockWaiterSlots.CountLive(anchor);
        Assert.Equal(2, counts[1]);
        Assert.Equal(1, counts[2]);
        Assert.Equal(0UL, dead[0]);

        LockWaiterSlots.Release(anchor, a);
        Assert.Equal(1, LockWaiterSlots.CountLive(anchor)[1]);
        for (var i = 0; i < CoordinationLayout.LockWaiterCount - 2; i++)
        {
            Assert.True(LockWaiterSlots.Claim(anchor, 3) >= 0);
        }

        Assert.Equal(-1, LockWaiterSlots.Claim(anchor, 3)); // full: the waiter waits uncounted
    }
}
