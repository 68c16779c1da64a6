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

    private readonly FileStream stream;
    private readonly string path;
    private readonly long contentLength;
    private readonly List<ulong> blockHashes;
    private readonly bool recording;
    private readonly XxHash3? contentHash;
    private readonly Action<long>? progress;
    private readonly byte[] block;
    private int blockLength;
    private int position;
    private int blockIndex;
    private long consumed;

    private SnapshotBlocks(FileStream stream, string path, long contentLength, List<ulong> blockHashes, bool recording, Action<long>? progress)
    {
        this.stream = stream;
        this.path = path;
        this.contentLength = contentLength;
        this.blockHashes = blockHashes;
        this.recording = recording;
        this.progress = progress;
        contentHash = recording ? new XxHash3() : null;
        block = new byte[(int)Math.Min(BlockSize, Math.Max(contentLength, 1))];
        stream.Seek(SnapshotFormat.HeaderSize, SeekOrigin.Begin);
    }

    /// <summary>The verifying pass: hashes every block as it is read and keeps the hashes for the importing pass.</summary>
    internal static SnapshotBlocks Record(FileStream stream, string path, long contentLength, List<ulong> blockHashes, Action<long>? progress) =>
        new(stream, path, contentLength, blockHashes, recording: true, progress);

    /// <summary>The importing pass: every block must hash as it did in the verifying pass.</summary>
    internal static SnapshotBlocks Replay(FileStream stream, string path, long contentLength, List<ulong> blockHashes, Action<long>? progress) =>
        new(stream, path, contentLength, blockHashes, recording: false, progress);

    /// <summary>Content bytes not yet handed out.</summary>
    internal long Remaining => contentLength - consumed;

    /// <summary>The content checksum, once the verifying pass has read everything (<see cref="Drain"/>).</summary>
    internal ulong ContentChecksum => contentHash!.GetCurrentHashAsUInt64();

    /// <summary>Fills <paramref name="destination"/>; the caller never asks for more than <see cref="Remaining"/>.</summary>
    internal void Read(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (position == blockLength)
            {
                LoadNext();
            }

            var count = Math.Min(destination.Length, blockLength - position);
            block.AsSpan(position, count).CopyTo(destination);
            destination = destination[count..];
            position += count;
            consumed += count;
        }
    }

    internal void Skip(long count)
    {
        while (count > 0)
        {
            if (position == blockLength)
            {
                LoadNext();
            }

            var step = (int)Math.Min(count, blockLength - position);
            position += step;
            consumed += step;
            count -= step;
        }
    }

    /// <summary>Reads (and hashes) whatever is left: the checksum decides whether a problem found earlier is damage.</summary>
    internal void Drain() => Skip(Remaining);

    private void LoadNext()
    {
        var start = (long)blockIndex * block.Length;
        var length = (int)Math.Min(block.Length, contentLength - start);
        if (length <= 0)
        {
            throw new InvalidOperationException("Read past the end of a snapshot's content.");
        }

        try
        {
            stream.ReadExactly(block, 0, length);
        }
        catch (EndOfStreamException)
        {
            // The length was checked when the file was opened: it shrank since.
            throw SnapshotErrors.ChangedWhileReading(path);
        }

        var hash = XxHash3.HashToUInt64(block.AsSpan(0, length));
        if (recording)
        {
            blockHashes.Add(hash);
            contentHash!.Append(block.AsSpan(0, length));
        }
        else if (blockIndex >= blockHashes.Count || blockHashes[blockIndex] != hash)
        {
            throw SnapshotErrors.ChangedWhileReading(path);
        }

        blockIndex++;
        blockLength = length;
        position = 0;
        progress?.Invoke(SnapshotFormat.HeaderSize + start + length);
    }
}
