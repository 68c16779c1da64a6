using BenchmarkDotNet.Attributes;
using Memalloc.Core;

namespace Memalloc.Benchmarks;

/// <summary>
/// Issue 13's promise that sending and receiving cost O(1) in the queue's length: one 16-byte item sent to and one
/// received from a queue that holds 10 and 100,000 items (the length stays as set up: each operation adds one at the
/// tail and takes one from the head). A cost that grew with the length would show as a ratio above 1.
/// </summary>
public class QueueDepthBenchmarks
{
    private static readonly byte[] s_value = new byte[16];
    private string _storeName = string.Empty;
    private MemStore? _store;

    [Params(10, 100_000)]
    public int Items { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _storeName = Sizes.NewStoreName();
        _store = MemStore.Open(_storeName, new MemStoreOptions { InitialCapacity = 64L << 20, MaxCapacity = 1L << 30 });
        for (var i = 0; i < Items; i++)
        {
            _store.Send("queue", s_value);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.Dispose();
        MemStore.DestroyStore(_storeName);
    }

    [Benchmark]
    public int SendReceive()
    {
        _store!.Send("queue", s_value);
        return _store.Receive("queue", 1).Count;
    }
}
