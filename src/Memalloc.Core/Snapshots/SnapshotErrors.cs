using System.Runtime.InteropServices;
using Memalloc.Core.Native;

namespace Memalloc.Core.Snapshots;

/// <summary>Every failure the snapshot files report, worded once (the cmdlets map the kinds to error categories).</summary>
internal static class SnapshotErrors
{
    /// <summary>A file that is not a whole, undamaged snapshot this version can read. Found before anything is written.</summary>
    internal static MemStoreException InvalidFile(string path, string problem) => new(MemStoreErrorKind.InvalidSnapshot,
        $"'{path}' cannot be imported: {problem}. Nothing was written to any store.");

    /// <summary>The file changed on disk after it was verified, while it was being imported.</summary>
    internal static MemStoreException ChangedWhileReading(string path) => new(MemStoreErrorKind.InvalidSnapshot,
        $"'{path}' changed on disk while it was being imported (it had been verified whole before the first stack was written). "
        + "Export snapshots to a new name rather than rewriting a file in place.");

    internal static MemStoreException TargetExists(string path) => new(MemStoreErrorKind.FileExists,
        $"The file '{path}' already exists; -NoClobber leaves it unchanged. The snapshot was not written.");

    internal static MemStoreException TargetReadOnly(string path) => new(MemStoreErrorKind.PermissionDenied,
        $"The file '{path}' is read-only; use -Force to replace it. The snapshot was not written.");

    internal static MemStoreException TargetIsDirectory(string path) => new(MemStoreErrorKind.InvalidArgument,
        $"'{path}' is a directory; give the path of the snapshot file to write.");

    /// <summary>Defect: an export to /dev/null, run as root, renamed the snapshot over the device node.</summary>
    internal static MemStoreException TargetIsSpecial(string path) => new(MemStoreErrorKind.InvalidArgument,
        $"'{path}' is not a regular file (a device, a FIFO or a socket); a snapshot replaces only a regular file, so it was not written.");

    internal static MemStoreException SourceIsDirectory(string path) => new(MemStoreErrorKind.InvalidArgument,
        $"'{path}' is a directory; give the path of a snapshot file. Nothing was written to any store.");

    /// <summary>A FIFO would make the import wait for a writer; a device or a pipe cannot be read twice.</summary>
    internal static MemStoreException SourceIsSpecial(string path) => new(MemStoreErrorKind.InvalidArgument,
        $"'{path}' is not a regular file (a device, a FIFO or a socket): a snapshot is read twice, once to verify it whole before "
        + "anything is written, which only a regular file allows. Nothing was written to any store.");

    internal static MemStoreException NoExclusiveRename(string path) => new(MemStoreErrorKind.NativeFailure,
        $"The file system of '{path}' supports neither an exclusive rename nor hard links, so -NoClobber cannot refuse an existing file "
        + "without a race there. Export without -NoClobber, or to another file system.");

    internal static MemStoreException FileCallFailed(string function, int errno, string path, string what) => new(
        Libc.Classify(errno),
        $"{what} '{path}': {function} failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).", function, errno);
}
