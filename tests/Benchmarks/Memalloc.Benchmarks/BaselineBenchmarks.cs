using System;
using System.Collections.Concurrent;
using System.IO.Hashing;
using BenchmarkDotNet.Attributes;

namespace Memalloc.Benchmarks;

/// <summary>
/// The limits the store is measured against: Buffer.MemoryCopy (bandwidth: no read can beat one copy) and an
/// in-process ConcurrentDictionary (no sharing: a reference stored and returned, nothing copied). The rest
/// attribute a large read's cost: allocating the returned byte[], hashing the value (the record checksum), and what a
/// read into a caller's buffer could cost at best: copy, then hash the copy. (Fusing copy and hash in 64 KiB chunks
/// through streaming XxHash3 was measured too, and was slower here than one pass of each.)
/// </summary>
public class BaselineBenchmarks
{
    private readonly ConcurrentDictionary<string, byte[]> _dictionary = new(StringComparer.Ordinal);
    private byte[] _source = [];
    private byte[] _destination = [];

    [ParamsSource(nameof(SizeValues))]
    public int Size { get; set; }

    public static int[] SizeValues => Sizes.Values;

    [GlobalSetup]
    public void Setup()
    {
        _source = GC.AllocateArray<byte>(Size, pinned: true);
        new Random(Size).NextBytes(_source);
        _destination = GC.AllocateArray<byte>(Size, pinned: true);
        _dictionary[Sizes.StackName] = _source;
    }

    [Benchmark]
    public unsafe void MemoryCopy()
    {
        fixed (byte* from = _source)
        fixed (byte* to = _destination)
        {
            Buffer.MemoryCopy(from, to, Size, Size);
        }
    }

    [Benchmark]
    public byte[]? DictionarySetGet()
    {
        _dictionary[Sizes.StackName] = _source;
        return _dictionary.TryGetValue(Sizes.StackName, out var found) ? found : null;
    }

    [Benchmark]
    public byte[]? DictionaryGet() => _dictionary.TryGetValue(Sizes.StackName, out var found) ? found : null;

    /// <summary>A read that returns a fresh array can do no better than allocate it and copy into it.</summary>
    [Benchmark]
    public byte[] CopyToNewArray() => _source.AsSpan().ToArray();

    [Benchmark]
    public ulong XxHash3Value() => XxHash3.HashToUInt64(_source);

    [Benchmark]
    public ulong CopyThenHash()
    {
        _source.AsSpan().CopyTo(_destination);
        return XxHash3.HashToUInt64(_destination);
    }

}
