using System;
using System.Diagnostics;
using System.Threading;
using Memalloc.Core;
using Memalloc.Core.Native;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>In-process stand-ins for the crash tests: a crash point throws (on this thread only), which abandons the
/// operation where a SIGKILL would; the next writer must recover. The multi-process SIGKILL tests live elsewhere.</summary>
public class RecoveryTests
{
    private sealed class SimulatedCrash : Exception
    {
        public SimulatedCrash(string point)
            : base(point)
        {
        }
    }

    private static readonly object s_crashPointsInUse = new();

    internal static void WithCrashAt(string point, Action action)
    {
        lock (s_crashPointsInUse)
        {
            var thread = Environment.CurrentManagedThreadId;
            var hit = false;
            CrashPoints.Hit = name =>
            {
                if (name == point && Environment.CurrentManagedThreadId == thread && !hit)
                {
                    hit = true;
                    throw new SimulatedCrash(name);
                }
            };
            try
            {
                Assert.Throws<SimulatedCrash>(action);
            }
            finally
            {
                CrashPoints.Hit = null;
            }

            Assert.True(hit, point + " was reached");
        }
    }

    [Theory]
    [InlineData("write.after-sequence", false)]
    [InlineData("write.after-record", false)]
    [InlineData("write.after-bump", false)]
    [InlineData("write.after-publish", true)]
    [InlineData("write.after-counters", true)]
    public void A_write_abandoned_at_any_step_leaves_old_or_new_value_and_the_next_write_recovers(string point, bool committed)
    {
        using var t = new TestStore();
        for (var i = 0; i < 20; i++)
        {
            t.Store.Set("k" + i, "old"u8);
        }

        WithCrashAt(point, () => t.Store.Set("k3", "new"u8));
        Assert.Equal(committed ? "new"u8.ToArray() : "old"u8.ToArray(), t.Store.Get("k3"));
        WithCrashAt(point, () => t.Store.Set("fresh", "f"u8));
        Assert.Equal(committed, t.Store.Exists("fresh"));
        t.Store.Set("after", "a"u8);
        var report = t.Store.Verify();
        Assert.True(report.IsValid, string.Join("\n", report.Problems));
        Assert.Equal(committed ? 22 : 21, t.Store.GetStatistics().Entries);
    }

    [Fact]
    public void A_removal_abandoned_after_the_tombstone_is_complete_after_recovery()
    {
        using var t = new TestStore();
        t.Store.Set("a", "1"u8);
        t.Store.Set("b", "2"u8);
        WithCrashAt("remove.after-tombstone", () => t.Store.Remove("a"));
        Assert.False(t.Store.Exists("a"));
        t.Store.Set("c", "3"u8);
        Assert.True(t.Store.Verify().IsValid);
        Assert.Equal(2, t.Store.GetStatistics().Entries);
    }

    [Theory]
    [InlineData("grow.after-shmget", false)]
    [InlineData("grow.after-copy", false)]
    [InlineData("grow.after-publish", true)]
    [InlineData("grow.after-rmid-old", true)]
    public void A_growth_abandoned_at_any_step_leaves_a_complete_arena_and_no_orphan(string point, bool moved)
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024 });
        var i = 0;
        while (t.Store.GetStatistics().Capacity - t.Store.GetStatistics().BytesUsed > 4000)
        {
            t.Store.Set("k" + i++, new byte[1000]);
        }

        var before = t.Store.GetStatistics();
        WithCrashAt(point, () => t.Store.Set("big", new byte[8000]));
        for (var j = 0; j < i; j++)
        {
            Assert.Equal(1000, t.Store.Get("k" + j)!.Length);
        }

        t.Store.Set("next", "n"u8); // recovers first (small: no growth of its own)
        var recovered = t.Store.GetStatistics();
        Assert.Equal(moved, recovered.Generation > before.Generation);
        if (moved)
        {
            Assert.False(Libc.TryStat(before.SegmentIds[1], out _, out _), "the replaced arena is removed by recovery");
        }
        else
        {
            Assert.Equal(before.SegmentIds[1], recovered.SegmentIds[1]);
            var orphanKey = KeyDerivation.ArenaKey(t.Store.AnchorKey, (uint)before.Generation + 1);
            Assert.True(Libc.ShmGet(orphanKey, 0, 0, out _) < 0, "the half-built arena is removed by recovery");
        }

        t.Store.Set("big", new byte[8000]);
        Assert.Equal(8000, t.Store.Get("big")!.Length);
        var report = t.Store.Verify();
        Assert.True(report.IsValid, string.Join("\n", report.Problems));
    }

    [Fact]
    public unsafe void A_lock_word_held_by_a_dead_process_is_taken_over_and_the_store_recounted()
    {
        using var t = new TestStore();
        t.Store.Set("a", "1"u8);
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        gone.WaitForExit();
        var deadPid = gone.Id;
        t.Store.WithAnchor(anchor =>
        {
            var a = (byte*)anchor;
            *(ulong*)(a + Layout.LockWordOffset) = (1UL << 32) | (uint)deadPid;
            *(uint*)(a + Layout.WriterStateOffset) = (uint)WriterState.Writing;
        });
        t.Store.WithArena((arena, _) => *(long*)((byte*)arena + Layout.ArenaEntriesOffset) = 42); // stale counter
        var clock = Stopwatch.StartNew();
        t.Store.Set("b", "2"u8);
        Assert.True(clock.ElapsedMilliseconds < 2000, "a dead owner delays the next writer by milliseconds");
        Assert.Equal(2, t.Store.GetStatistics().Entries);
        Assert.True(t.Store.Verify().IsValid);
        t.Store.WithAnchor(anchor => Assert.Equal(0UL, *(ulong*)((byte*)anchor + Layout.LockWordOffset)));
    }

    [Fact]
    public unsafe void Readers_never_wait_for_a_lock_holder()
    {
        using var t = new TestStore();
        t.Store.Set("a", "1"u8);
        // A live foreign owner (pid 1 never dies): writers would wait, readers must not.
        t.Store.WithAnchor(anchor => *(ulong*)((byte*)anchor + Layout.LockWordOffset) = 1);
        try
        {
            Assert.Equal("1"u8.ToArray(), t.Store.Get("a"));
            Assert.Single(t.Store.ListNames());
            var writer = new Thread(() => t.Store.Set("b", "2"u8));
            writer.Start();
            Assert.False(writer.Join(100), "a writer waits while the lock's owner lives");
            t.Store.WithAnchor(anchor => *(ulong*)((byte*)anchor + Layout.LockWordOffset) = 0);
            Assert.True(writer.Join(5000));
            Assert.True(t.Store.Exists("b"));
        }
        finally
        {
            t.Store.WithAnchor(anchor => Interlocked.CompareExchange(ref *(ulong*)((byte*)anchor + Layout.LockWordOffset), 0, 1));
        }
    }
    [Theory]
    [InlineData(-8L)]
    [InlineData(3L)]
    [InlineData(long.MaxValue - 7)]
    [InlineData(1L << 40)]
    public unsafe void A_damaged_bump_pointer_is_repaired_before_a_write_and_never_written_through(long bump)
    {
        using var t = new TestStore();
        t.Store.Set("a", "1"u8);
        t.Store.Set("b", "2"u8);
        t.Store.WithArena((arena, _) => *(long*)((byte*)arena + Layout.ArenaBumpOffset) = bump);

        t.Store.Set("c", "3"u8);

        Assert.Equal("1"u8.ToArray(), t.Store.Get("a"));
        Assert.Equal("2"u8.ToArray(), t.Store.Get("b"));
        Assert.Equal("3"u8.ToArray(), t.Store.Get("c"));
        var report = t.Store.Verify();
        Assert.True(report.IsValid, string.Join("\n", report.Problems));
    }
}
