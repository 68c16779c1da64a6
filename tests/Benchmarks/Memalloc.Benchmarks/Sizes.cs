using System;

namespace Memalloc.Benchmarks;

/// <summary>Value sizes and store names shared by every benchmark, so the peers see the same workload.</summary>
internal static class Sizes
{
    /// <summary>16 B, 1 KiB, 64 KiB and 1 MiB: the sizes the design's targets and the peers use.</summary>
    public static readonly int[] Values = [16, 1024, 64 * 1024, 1024 * 1024];

    /// <summary>Stack name used by the single-value benchmarks (a realistic short name).</summary>
    public const string StackName = "bench-value";

    /// <summary>A fresh store name per benchmark: the machine's System V namespace is shared with other users' tests.</summary>
    public static string NewStoreName() => "bench-" + Guid.NewGuid().ToString("N");

    /// <summary>Random (not compressible, not all-zero) bytes of the given size.</summary>
    public static byte[] RandomValue(int size, int seed)
    {
        var value = new byte[size];
        new Random(seed).NextBytes(value);
        return value;
    }
}
