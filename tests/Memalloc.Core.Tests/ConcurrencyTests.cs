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
