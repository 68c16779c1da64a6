using System;
using System.Threading;
using System.Threading.Tasks;
using Memalloc.Core;
using Xunit;

namespace Memalloc.Core.Tests;

public class ConcurrencyTests
{
    [Fact]
    public async Task Threads_writing_and_reading_through_growth_see_only_whole_values()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024 });
        using var second = MemStore.Open(t.StoreName);
        var stop = 0;
        var torn = 0;
        var readers = new Task[3];
        for (var r = 0; r < readers.Length; r++)
        {
            var store = r % 2 == 0 ? t.Store : second;
            readers[r] = Task.Run(() =>
            {
                while (Volatile.Read(ref stop) == 0)
                {
                    for (var k = 0; k < 50; k++)
                    {
                        var value = store.Get("k" + k);
                        if (value is not null && (value.Length != value[0] * 10 || Array.Exists(value, b => b != value[0])))
                        {
                            Interlocked.Increment(ref torn);
                        }
                    }
                }
            });
        }

        Parallel.For(0, 4, w =>
        {
            var store = w % 2 == 0 ? t.Store : second;
            for (var i = 1; i < 2000; i++)
            {
                var b = (byte)((i % 25) + 1);
                var value = new byte[b * 10];
                Array.Fill(value, b);
                store.Set("k" + ((i * 7 + w) % 50), value);
            }
        });
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(readers);
        Assert.Equal(0, torn);
        Assert.True(t.Store.GetStatistics().Generation > 1);
        Assert.True(t.Store.Verify().IsValid);
    }
}

public class ViewLifetimeTests
{
    [Fact]
    public async Task Every_replaced_arena_is_detached_once_its_readers_are_done()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 64 * 1024 });
        var seen = new System.Collections.Generic.HashSet<int>();
        var stop = 0;
        var running = 0;
        var readers = new Task[4];
        for (var r = 0; r < readers.Length; r++)
        {
            readers[r] = Task.Run(() =>
            {
                Interlocked.Increment(ref running);
                while (Volatile.Read(ref stop) == 0)
                {
                    t.Store.Get("k1");
                    t.Store.Exists("k2");
                }
            });
        }

        while (Volatile.Read(ref running) < readers.Length)
        {
            Thread.Sleep(1);
        }

        for (var i = 0; i < 20000; i++)
        {
            t.Store.Set("k" + (i % 3000), new byte[i % 50 * 20]);
            if (i % 100 == 0)
            {
                seen.Add(t.Store.GetStatistics().SegmentIds[1]);
            }
        }

        Volatile.Write(ref stop, 1);
        await Task.WhenAll(readers);
        seen.Add(t.Store.GetStatistics().SegmentIds[1]);
        Assert.True(seen.Count > 3);
        t.Store.Destroy();
        foreach (var shmId in seen)
        {
            // Removed segments vanish once nobody is attached: a view that was never released would keep one alive.
            Assert.False(Memalloc.Core.Native.Libc.TryStat(shmId, out _, out _), "arena " + shmId + " still attached");
        }
    }
}
