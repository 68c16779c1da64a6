using BenchmarkDotNet.Attributes;
using Memalloc.Core;

namespace Memalloc.Benchmarks;

/// <summary>The core's facade, one process, one stack overwritten and read back: what the APCu pair is compared with.</summary>
public class CoreBenchmarks
{
    private string _storeName = string.Empty;
    private MemStore? _store;
    private byte[] _value = [];
    private byte[] _destination = [];

    [ParamsSource(nameof(SizeValues))]
    public int Size { get; set; }

    public static int[] SizeValues => Sizes.Values;

    [GlobalSetup]
    public void Setup()
    {
        _storeName = Sizes.NewStoreName();
        // Big enough that a 1 MiB overwrite loop compacts now and then rather than on every write.
        _store = MemStore.Open(_storeName, new MemStoreOptions { InitialCapacity = 64L << 20 });
        _value = Sizes.RandomValue(Size, Size);
        _destination = new byte[Size];
        _store.Set(Sizes.StackName, _value);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.Dispose();
        MemStore.DestroyStore(_storeName);
    }

    [Benchmark]
    public long Set() => _store!.Set(Sizes.StackName, _value);

    [Benchmark]
    public byte[]? Get() => _store!.Get(Sizes.StackName);

    /// <summary>The read into a caller's reused buffer (no allocation): what a large read costs without the new array.</summary>
    [Benchmark]
    public long CopyValue() => _store!.CopyValue(Sizes.StackName, _destination);

    /// <summary>The read Get-MemStack makes: the value in a pooled array, given back after use (no allocation).</summary>
    [Benchmark]
    public int GetRented()
    {
        _store!.TryGetRented(Sizes.StackName, out var entry);
        using (entry)
        {
            return entry!.Data.Length;
        }
    }

    [Benchmark]
    public byte[]? SetGet()
    {
        _store!.Set(Sizes.StackName, _value);
        return _store.Get(Sizes.StackName);
    }
}
