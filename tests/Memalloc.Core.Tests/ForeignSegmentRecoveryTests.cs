using System;
using System.Linq;
using Memalloc.TestHost;
using Xunit;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// Issue 9, defect 7 (foreign segments): recovery and growth remove leftover arenas, but a segment is the store's
/// only when its header names the store's anchor, or, not yet initialised (first bytes zero), when it sits at exactly
/// the key and has exactly the size the crashed growth recorded. Another program's segment of the same user, mode
/// 0600 and zero at the start, met at a reused shmid or a colliding key, is left alone.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed unsafe class ForeignSegmentRecoveryTests
{
    private const long PlantedSize = 96 * 1024;
    private const int MarkerOffset = 4096;
    private static readonly byte[] s_marker = "another program's data"u8.ToArray();

    [SysVTheory]
    [InlineData("next-arena-key")]
    [InlineData("pending-shmid")]
    [InlineData("pending-key")]
    [InlineData("previous-shmid")]
    [InlineData("spare-grow")]
    [InlineData("spare-destroy")]
    public void ZeroedForeignSegment_IsNeverRemovedAsTheStores(string where)
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            janitor.TrackStore(store);
            store.Set("a", Payload.Create("a", 1, 1, 300));
            var statistics = store.GetStatistics();
            var generation = (uint)statistics.Generation;
            var nextKey = KeyDerivation.ArenaKey(statistics.Key, generation + 1);
            var planted = Plant(where is "next-arena-key" or "pending-key" ? nextKey : 0);
            janitor.Track(planted);
            var plantedKey = SysVTestNative.FindById(planted)!.Value.Key;

            store.WithAnchor(address =>
            {
                var a = (byte*)address;
                switch (where)
                {
                    case "pending-shmid": // a crashed growth's new arena, since removed and its shmid reused
                        SetGrowing(a, generation + 1, nextKey, planted, -1, 128 * 1024);
                        break;
                    case "pending-key": // crashed before its shmget; another program's segment sits at the key
                        SetGrowing(a, generation + 1, nextKey, -1, -1, 128 * 1024);
                        break;
                    case "previous-shmid": // committed growth whose replaced arena's shmid was reused
                        SetGrowing(a, generation, 0, -1, planted, 0);
                        break;
                    case "spare-grow" or "spare-destroy":
                        *(ulong*)(a + Layout.SpareRefOffset) = Anchor.MakeArenaRef(generation - 1, planted);
                        break;
                }
            });

            if (where == "spare-destroy")
            {
                store.Destroy();
                store = null;
            }
            else
            {
                // Values large enough to grow the 64 KiB arena: growth creates arenas at the next keys, and drops a
                // spare of the wrong size.
                for (var i = 0; i < 6; i++)
                {
                    var name = "big" + i;
                    store.Set(name, Payload.Create(name, 1, i + 2, 40_000));
                }

                Assert.True(store.GetStatistics().Generation > generation, "the store did not grow");
                Assert.Null(Payload.Check("a", store.Get("a"), out _, out _));
                Assert.Null(Payload.Check("big5", store.Get("big5"), out _, out _));
                Assert.DoesNotContain(planted, store.GetStatistics().SegmentIds);
                AssertValid(store);
            }

            var after = SysVTestNative.FindById(planted);
            Assert.True(after is { } s && s.Key == plantedKey, $"the foreign segment {planted} was removed ({where})");
            Assert.Equal(s_marker, SysVTestNative.ReadSegment(planted, MarkerOffset + s_marker.Length)[MarkerOffset..]);
            Assert.Equal(new byte[Layout.ArenaHeaderSize], SysVTestNative.ReadSegment(planted, Layout.ArenaHeaderSize));
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>What a dead writer leaves in the anchor: a growth in progress, with what it recorded.</summary>
    private static void SetGrowing(byte* anchor, uint pendingGeneration, int pendingKey, int pendingShmId, int previousShmId, long pendingCapacity)
    {
        *(uint*)(anchor + Layout.PendingGenerationOffset) = pendingGeneration;
        *(int*)(anchor + Layout.PendingKeyOffset) = pendingKey;
        *(int*)(anchor + Layout.PendingShmIdOffset) = pendingShmId;
        *(int*)(anchor + Layout.PreviousShmIdOffset) = previousShmId;
        *(long*)(anchor + Layout.PendingCapacityOffset) = pendingCapacity;
        *(uint*)(anchor + Layout.WriterStateOffset) = (uint)WriterState.Growing;
    }

    /// <summary>Another program's segment: this user's, mode 0600, zero in its first page, data further on; at the
    /// given key, or (0) at a random key of its own.</summary>
    private static int Plant(int key)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var id = SysVTestNative.ShmGet(key != 0 ? key : Random.Shared.Next(0x1000_0000, 0x7FFF_0000), PlantedSize,
                SysVTestNative.IPC_CREAT | SysVTestNative.IPC_EXCL | Convert.ToInt32("600", 8));
            if (id >= 0)
            {
                SysVTestNative.WriteSegment(id, MarkerOffset, s_marker);
                return id;
            }

            Assert.True(key == 0 && id == -SysVTestNative.EEXIST, $"planting at key 0x{key:x8}: errno {-id}");
        }

        throw new InvalidOperationException("no free key to plant at");
    }
}
