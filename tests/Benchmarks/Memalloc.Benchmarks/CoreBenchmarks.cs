using BenchmarkDotNet.Attributes;
using Memalloc.Core;

namespace Memalloc.Benchmarks;

/// <summary>The core's facade, one process, one stack overwritten and read back: what the APCu pair is compared with.</summary>
public class CoreBenchmarks
{
    private string storeName = string.Empty;
    private MemStore? store;
    private byte[] value = [];
    private byte[] destination = [];

    [ParamsSource(nameof(SizeValues))]
    public int Size { get; set; }

    public static int[] SizeValues => Sizes.Values;

    [GlobalSetup]
    public void Setup()
    {
        storeName = Sizes.NewStoreName();
        // Big enough that a 1 MiB overwrite loop compacts now and then rather than on every write.
        store = MemStore.Open(storeName, new MemStoreOptions { InitialCapacity = 64L << 20 });
        value = Sizes.RandomValue(Size, Size);
        destination = new byte[Size];
        store.Set(Sizes.StackName, value);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        store?.Dispose();
        MemStore.DestroyStore(storeName);
    }

    [Benchmark]
    public long Set() => store!.Set(Sizes.StackName, value);

    [Benchmark]
    public byte[]? Get() => store!.Get(Sizes.StackName);

    /// <summary>The read into a caller's reused buffer (no allocation): what a large read costs without the new array.</summary>
    [Benchmark]
    public long CopyValue() => store!.CopyValue(Sizes.StackName, destination);

    [Benchmark]
    public byte[]? SetGet()
    {
        store!.Set(Sizes.StackName, value);
        return store.Get(Sizes.StackName);
    }
}
