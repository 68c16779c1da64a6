using System;
using System.Buffers;
using System.Threading;

namespace Memalloc;

/// <summary>A value turned into what a stack stores: UTF-8 CliXml, in an array rented from <see cref="ArrayPool{T}.Shared"/>
/// (dispose to give it back), plus what the writer should warn about.</summary>
internal sealed class SerializedValue : IDisposable
{
    private readonly int _length;
    private byte[]? _buffer;

    public SerializedValue(byte[] rented, int length)
    {
        _buffer = rented;
        _length = length;
    }

    /// <summary>The UTF-8 CliXml; ObjectDisposedException once the array was given back.</summary>
    public ReadOnlySpan<byte> Data => (Volatile.Read(ref _buffer) ?? throw new ObjectDisposedException(nameof(SerializedValue))).AsSpan(0, _length);

    /// <summary>Type name of the root object (a PSObject's first type name), null for $null.</summary>
    public string? TypeName { get; init; }

    /// <summary>The CliXml holds a SecureString (alone or inside a PSCredential): on Unix it is only hex, not encrypted.</summary>
    public bool ContainsSecureString { get; init; }

    /// <summary>Some object sat deeper than -Depth and was written as its ToString() text.</summary>
    public bool DepthTruncated { get; init; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
