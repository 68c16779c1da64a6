using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;

namespace Memalloc.Core.Snapshots;

/// <summary>
/// The content of a snapshot file (everything after the header), read block by block. The verifying pass records an
/// XXH3 hash of every block (and the content checksum); the importing pass re-reads the same blocks and compares each
/// one's hash before a byte of it is parsed, so what is imported is exactly what was verified even if someone rewrites
/// the file in place meanwhile. Memory: one block, plus 8 bytes per block of the file (8 KiB for a 1 GiB file).
/// </summary>
internal sealed class SnapshotBlocks
{
    private const int BlockSize = 1 << 20;

    private readonly FileStream _stream;
    private readonly string _path;
    private readonly long _contentLength;
    private readonly List<ulong> _blockHashes;
    private readonly bool _recording;
    private readonly XxHash3? _contentHash;
    private readonly Action<long>? _progress;
    private readonly byte[] _block;
    private int _blockLength;
    private int _position;
    private int _blockIndex;
    private long _consumed;

    private SnapshotBlocks(FileStream stream, string path, long contentLength, List<ulong> blockHashes, bool recording, Action<long>? progress)
    {
        _stream = stream;
        _path = path;
        _contentLength = contentLength;
        _blockHashes = blockHashes;
        _recording = recording;
        _progress = progress;
        _contentHash = recording ? new XxHash3() : null;
        _block = new byte[(int)Math.Min(BlockSize, Math.Max(contentLength, 1))];
        stream.Seek(SnapshotFormat.HeaderSize, SeekOrigin.Begin);
    }

    /// <summary>The verifying pass: hashes every block as it is read and keeps the hashes for the importing pass.</summary>
    internal static SnapshotBlocks Record(FileStream stream, string path, long contentLength, List<ulong> blockHashes, Action<long>? progress) =>
        new(stream, path, contentLength, blockHashes, recording: true, progress);

    /// <summary>The importing pass: every block must hash as it did in the verifying pass.</summary>
    internal static SnapshotBlocks Replay(FileStream stream, string path, long contentLength, List<ulong> blockHashes, Action<long>? progress) =>
        new(stream, path, contentLength, blockHashes, recording: false, progress);

    /// <summary>Content bytes not yet handed out.</summary>
    internal long Remaining => _contentLength - _consumed;

    /// <summary>The content checksum, once the verifying pass has read everything (<see cref="Drain"/>).</summary>
    internal ulong ContentChecksum => _contentHash!.GetCurrentHashAsUInt64();

    /// <summary>Fills <paramref name="destination"/>; the caller never asks for more than <see cref="Remaining"/>.</summary>
    internal void Read(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (_position == _blockLength)
            {
                LoadNext();
            }

            var count = Math.Min(destination.Length, _blockLength - _position);
            _block.AsSpan(_position, count).CopyTo(destination);
            destination = destination[count..];
            _position += count;
            _consumed += count;
        }
    }

    internal void Skip(long count)
    {
        while (count > 0)
        {
            if (_position == _blockLength)
            {
                LoadNext();
            }

            var step = (int)Math.Min(count, _blockLength - _position);
            _position += step;
            _consumed += step;
            count -= step;
        }
    }

    /// <summary>Reads (and hashes) whatever is left: the checksum decides whether a problem found earlier is damage.</summary>
    internal void Drain() => Skip(Remaining);

    private void LoadNext()
    {
        var start = (long)_blockIndex * _block.Length;
        var length = (int)Math.Min(_block.Length, _contentLength - start);
        if (length <= 0)
        {
            throw new InvalidOperationException("Read past the end of a snapshot's content.");
        }

        try
        {
            _stream.ReadExactly(_block, 0, length);
        }
        catch (EndOfStreamException)
        {
            // The length was checked when the file was opened: it shrank since.
            throw SnapshotErrors.ChangedWhileReading(_path);
        }

        var hash = XxHash3.HashToUInt64(_block.AsSpan(0, length));
        if (_recording)
        {
            _blockHashes.Add(hash);
            _contentHash!.Append(_block.AsSpan(0, length));
        }
        else if (_blockIndex >= _blockHashes.Count || _blockHashes[_blockIndex] != hash)
        {
            throw SnapshotErrors.ChangedWhileReading(_path);
        }

        _blockIndex++;
        _blockLength = length;
        _position = 0;
        _progress?.Invoke(SnapshotFormat.HeaderSize + start + length);
    }
}
