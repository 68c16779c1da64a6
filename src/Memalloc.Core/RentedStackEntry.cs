using System;
using System.Buffers;
using System.Threading;

namespace Memalloc.Core;

/// <summary>
/// A stack's value and metadata from one consistent snapshot, the value in an array rented from
/// <see cref="ArrayPool{T}.Shared"/> (<see cref="MemStore.TryGetRented"/>): a large value read again and again costs no
/// new large-object allocation. Dispose gives the array back; a span taken from <see cref="Data"/> must not be used after.
/// </summary>
public sealed class RentedStackEntry : IDisposable
{
    private readonly int _length;
    private byte[]? _buffer;

    private readonly bool _pooled;

    internal RentedStackEntry(byte[] buffer, int length, StackInfo info, bool pooled = true)
    {
        _buffer = buffer;
        _length = length;
        Info = info;
        _pooled = pooled;
    }

    /// <summary>An entry over an array of its own (a backend that receives each value in a new array, Redis): disposing it
    /// gives nothing back to the pool.</summary>
    public static RentedStackEntry Unpooled(byte[] data, StackInfo info) => new(data, data.Length, info, pooled: false);

    public StackInfo Info { get; }

    /// <summary>The value's bytes; ObjectDisposedException once the array was given back.</summary>
    public ReadOnlySpan<byte> Data => (Volatile.Read(ref _buffer) ?? throw new ObjectDisposedException(nameof(RentedStackEntry))).AsSpan(0, _length);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer && _pooled)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
