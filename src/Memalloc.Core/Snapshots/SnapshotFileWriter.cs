using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Hashing;
using Memalloc.Core.Native;

namespace Memalloc.Core.Snapshots;

/// <summary>
/// Writes one snapshot file safely (docs/snapshot-format.md, "Writing"): into a new temporary file in the target's
/// folder (created exclusively, mode 0600), streamed through a buffer while the content checksum is computed, then the
/// header (which holds that checksum) written at the start, the file fsynced, renamed over the target, and the folder
/// fsynced. A process killed or a disk filling up at any point leaves the target as it was: absent, or the old file.
/// Not thread-safe; stacks and queues must come in ascending order of their name bytes (what the reader requires).
/// </summary>
public sealed partial class SnapshotFileWriter : IDisposable
{
    private const int BufferSize = 1 << 20;
    private const int MaxHeadSize = SnapshotFormat.EnvelopeSize + SnapshotFormat.StackHeadSize + Layout.MaxNameBytes + Layout.MaxTypeNameBytes; // a queue's is smaller

    private readonly string _storeName;
    private readonly long _takenAtMs;
    private readonly SnapshotOverwrite _overwrite;
    private readonly XxHash3 _contentHash = new();
    private readonly byte[] _head = new byte[MaxHeadSize];
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _buffered;
    private readonly byte[] _previousName = new byte[Layout.MaxNameBytes];
    private int _previousNameLength;
    private long _itemsLeft;
    private long _itemPayloadLeft;
    private long _itemBytesLeft;
    private FileStream? _stream;
    private bool _committed;

    private SnapshotFileWriter(string targetPath, string tempPath, FileStream stream, string storeName, long takenAtMs, SnapshotOverwrite overwrite)
    {
        TargetPath = targetPath;
        TempPath = tempPath;
        _stream = stream;
        _storeName = storeName;
        _takenAtMs = takenAtMs;
        _overwrite = overwrite;
    }

    /// <summary>The file the snapshot will be published as (a symbolic link given as the path is followed).</summary>
    public string TargetPath { get; }

    /// <summary>The temporary file being written, in the target's folder; gone once committed or disposed.</summary>
    public string TempPath { get; }

    public long StackCount { get; private set; }

    /// <summary>Sum of the stacks' value lengths.</summary>
    public long ValueBytes { get; private set; }

    public long QueueCount { get; private set; }

    /// <summary>Items of every queue written so far.</summary>
    public long QueueItemCount { get; private set; }

    /// <summary>Bytes written so far (header included).</summary>
    public long Length => SnapshotFormat.HeaderSize + ContentLength;

    private long ContentLength { get; set; }

    /// <summary>
    /// Checks the target (not a folder; with <see cref="SnapshotOverwrite.Never"/>, not there; unless
    /// <see cref="SnapshotOverwrite.ReplaceReadOnly"/>, not read-only) and creates the temporary file. The checks are
    /// repeated by the file system where it matters: -NoClobber is decided again, race-free, when the file is published.
    /// </summary>
    public static SnapshotFileWriter Create(string path, string storeName, DateTime takenAtUtc, SnapshotOverwrite overwrite)
    {
        MemStore.ValidateStoreName(storeName);
        if (OperatingSystem.IsWindows())
        {
            throw new MemStoreException(MemStoreErrorKind.PlatformNotSupported, "Memalloc snapshots are written on Linux and macOS only.");
        }

        var target = ResolveTarget(path, overwrite);
        var folder = Path.GetDirectoryName(target)!;
        for (var attempt = 0; ; attempt++)
        {
            // Hidden, and named for what it is, should a killed export leave it behind. O_EXCL, not the name, keeps out a
            // planted file, so the name needs no cryptographic randomness: Guid's comes from the runtime's own native
            // shim, where RandomNumberGenerator would load OpenSSL (and abort where libssl is missing, as under qemu).
            var temp = Path.Combine(folder, $".memalloc-export-{Environment.ProcessId}-{Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 6)}.tmp");
            FileStream file;
            try
            {
                file = new FileStream(temp, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew, // O_CREAT | O_EXCL: never opens a file someone planted at the name
                    Access = FileAccess.ReadWrite,
                    Share = FileShare.None,
                    BufferSize = 0, // the writer buffers itself, so that the checksum is computed over whole buffers
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
            }
            catch (IOException) when (attempt < 5 && File.Exists(temp))
            {
                continue; // a name collision, however unlikely: draw again
            }

            try
            {
                File.SetUnixFileMode(file.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite); // exactly 0600, whatever the umask
                file.Write(new byte[SnapshotFormat.HeaderSize]); // the header is written last, when its checksum is known
                var takenAtMs = new DateTimeOffset(DateTime.SpecifyKind(takenAtUtc, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
                return new SnapshotFileWriter(target, temp, file, storeName, takenAtMs, overwrite);
            }
            catch
            {
                file.Dispose();
                File.Delete(temp);
                throw;
            }
        }
    }

    private static string ResolveTarget(string path, SnapshotOverwrite overwrite)
    {
        var full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        if (info.LinkTarget is not null)
        {
            full = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full; // write where the link points
            info = new FileInfo(full);
        }

        if (Directory.Exists(full) || Path.EndsInDirectorySeparator(full))
        {
            throw SnapshotErrors.TargetIsDirectory(full);
        }

        if (info.Exists)
        {
            if (Files.IsSpecialFile(full))
            {
                throw SnapshotErrors.TargetIsSpecial(full); // a rename over /dev/null would replace the device node
            }

            if (overwrite == SnapshotOverwrite.Never)
            {
                throw SnapshotErrors.TargetExists(full);
            }

            if (overwrite == SnapshotOverwrite.Replace && info.IsReadOnly)
            {
                throw SnapshotErrors.TargetReadOnly(full);
            }
        }

        return full;
    }

    /// <summary>Content goes through one 1 MiB buffer, hashed and written a whole buffer at a time (XXH3 runs at full
    /// speed only over long inputs; a value larger than the buffer is hashed and written where it lies).</summary>
    private void Append(FileStream file, ReadOnlySpan<byte> bytes)
    {
        ContentLength += bytes.Length;
        if (bytes.Length > _buffer.Length - _buffered)
        {
            Flush(file);
            if (bytes.Length >= _buffer.Length)
            {
                _contentHash.Append(bytes);
                file.Write(bytes);
                return;
            }
        }

        bytes.CopyTo(_buffer.AsSpan(_buffered));
        _buffered += bytes.Length;
    }

    private void Flush(FileStream file)
    {
        _contentHash.Append(_buffer.AsSpan(0, _buffered));
        file.Write(_buffer, 0, _buffered);
        _buffered = 0;
    }

    /// <summary>Writes trailer and header, makes the file durable and publishes it under the target name. After an
    /// exception the target is as it was and the temporary file is removed (by <see cref="Dispose"/>).</summary>
    public void Commit()
    {
        var file = _stream ?? throw new ObjectDisposedException(nameof(SnapshotFileWriter));
        CheckQueueComplete();
        Span<byte> trailer = stackalloc byte[SnapshotFormat.TrailerSize];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer[SnapshotFormat.TrailerMagicOffset..], SnapshotFormat.TrailerMagic);
        BinaryPrimitives.WriteInt64LittleEndian(trailer[SnapshotFormat.TrailerRecordCountOffset..], StackCount + QueueCount);
        BinaryPrimitives.WriteInt64LittleEndian(trailer[SnapshotFormat.TrailerStackCountOffset..], StackCount);
        BinaryPrimitives.WriteInt64LittleEndian(trailer[SnapshotFormat.TrailerValueBytesOffset..], ValueBytes);
        Append(file, trailer);
        Flush(file);
        CrashPoints.Hit?.Invoke("snapshot.after-records");

        file.Seek(0, SeekOrigin.Begin);
        file.Write(SnapshotFormat.BuildHeader(_storeName, _takenAtMs, ContentLength, _contentHash.GetCurrentHashAsUInt64()));
        file.Flush(flushToDisk: true); // fsync: the content is on disk before any name points at it
        file.Dispose();
        _stream = null;
        CrashPoints.Hit?.Invoke("snapshot.before-publish");

        Publish();
        _committed = true;
        CrashPoints.Hit?.Invoke("snapshot.after-publish");
        var errno = Files.SyncDirectory(Path.GetDirectoryName(TargetPath)!);
        if (errno != 0)
        {
            throw SnapshotErrors.FileCallFailed("fsync", errno, Path.GetDirectoryName(TargetPath)!, "The snapshot was written, but it may not survive a power cut: syncing the folder");
        }
    }

    private void Publish()
    {
        if (_overwrite != SnapshotOverwrite.Never)
        {
            var errno = Files.Rename(TempPath, TargetPath);
            if (errno != 0)
            {
                throw SnapshotErrors.FileCallFailed("rename", errno, TargetPath, "Publishing the snapshot as");
            }

            return;
        }

        var result = Files.RenameNoReplace(TempPath, TargetPath);
        if (result == 0)
        {
            return;
        }

        if (result == Libc.EEXIST)
        {
            throw SnapshotErrors.TargetExists(TargetPath);
        }

        if (result > 0)
        {
            throw SnapshotErrors.FileCallFailed("rename", result, TargetPath, "Publishing the snapshot as");
        }

        PublishByLink(TempPath, TargetPath);
    }

    /// <summary>Where no exclusive rename exists: a hard link fails with EEXIST just as atomically; then the temporary
    /// name goes.</summary>
    internal static void PublishByLink(string tempPath, string targetPath)
    {
        var linked = Files.Link(tempPath, targetPath);
        if (linked == Libc.EEXIST)
        {
            throw SnapshotErrors.TargetExists(targetPath);
        }

        if (linked != 0)
        {
            throw linked == Libc.EPERM || linked == Files.ENOTSUP || linked == Files.EMLINK || linked == Files.EXDEV
                ? SnapshotErrors.NoExclusiveRename(targetPath)
                : SnapshotErrors.FileCallFailed("link", linked, targetPath, "Publishing the snapshot as");
        }

        File.Delete(tempPath);
    }

    /// <summary>Removes the temporary file unless the snapshot was committed; the target is never touched here.</summary>
    public void Dispose()
    {
        var file = _stream;
        _stream = null;
        try
        {
            file?.Dispose(); // whatever closing throws must not hide the failure that brought us here
        }
        catch (IOException)
        {
        }

        if (!_committed)
        {
            try
            {
                File.Delete(TempPath);
            }
            catch (IOException)
            {
                // Best effort: a leftover is hidden, named .memalloc-export-*, and never mistaken for a snapshot.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
