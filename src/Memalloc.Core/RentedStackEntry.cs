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

    internal RentedStackEntry(byte[] buffer, int length, StackInfo info)
    {
        _buffer = buffer;
        _length = length;
        Info = info;
    }

    public StackInfo Info { get; }

    /// <summary>The value's bytes; ObjectDisposedException once the array was given back.</summary>
    public ReadOnlySpan<byte> Data => (Volatile.Read(ref _buffer) ?? throw new ObjectDisposedException(nameof(RentedStackEntry))).AsSpan(0, _length);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
