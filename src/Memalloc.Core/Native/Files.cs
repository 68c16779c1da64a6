using System;
using System.Runtime.InteropServices;

namespace Memalloc.Core.Native;

/// <summary>
/// The file-system calls .NET does not offer and snapshots need: a rename that never replaces (for -NoClobber without
/// a check-then-act race), a hard link (its portable fallback), a plain rename, fsync of a directory (so that a
/// rename survives a power cut), and telling a device or FIFO from a file (.NET's FileInfo cannot). Declarations are
/// private; each wrapper returns 0 or the errno, for the caller to decide. Linux: glibc/musl stdio.h renameat2
/// (glibc 2.28+), linux/fs.h RENAME_NOREPLACE, fcntl.h AT_FDCWD and O_PATH. macOS: sys/stdio.h renamex_np with
/// RENAME_EXCL (10.12+).
/// </summary>
internal static partial class Files
{
    private const string LibraryName = Libc.LibraryName;

    // errno values only the file calls meet; the same on Linux and macOS (asm-generic/errno-base.h, sys/errno.h).
    internal const int EXDEV = 18;
    internal const int EMLINK = 31;

    /// <summary>ENOTSUP/EOPNOTSUPP: Linux 95, macOS 45.</summary>
    internal static int ENOTSUP => OperatingSystem.IsMacOS() ? MacOSAbi.ENOTSUP : LinuxAbi.ENOTSUP;

    private const int AT_FDCWD = -100;           // Linux fcntl.h
    private const uint RENAME_NOREPLACE = 1;     // Linux fs.h
    private const uint RENAME_EXCL = 0x4;        // macOS stdio.h
    private const int O_RDONLY = 0;

    /// <summary>Renames <paramref name="from"/> to <paramref name="to"/> only if <paramref name="to"/> does not exist, in
    /// one step (EEXIST otherwise). Returns -1 when neither the C library nor the file system offers such a rename:
    /// the caller then links and unlinks instead.</summary>
    internal static int RenameNoReplace(string from, string to)
    {
        try
        {
            var result = OperatingSystem.IsMacOS() ? RenameXNp(from, to, RENAME_EXCL) : RenameAt2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
            if (result == 0)
            {
                return 0;
            }

            var errno = Marshal.GetLastPInvokeError();
            // EINVAL: the file system does not support the flag (Linux); ENOTSUP (macOS); ENOSYS: a kernel before 3.15.
            return errno == Libc.EINVAL || errno == ENOTSUP || errno == Libc.ENOSYS ? -1 : errno;
        }
        catch (EntryPointNotFoundException)
        {
            return -1; // a C library without renameat2 (musl before 1.2.3, old glibc)
        }
    }

    /// <summary>
    /// True when <paramref name="path"/> (symbolic links followed) is a device, a FIFO or a socket; false for a regular
    /// file, a directory, and whatever cannot be looked at (missing, no permission), whose failure the caller's own open
    /// then reports. It is looked at without being opened for I/O (a FIFO would wait for its other end, a device could
    /// act): Linux opens with O_PATH, which needs no permission and does nothing; macOS, which has no O_PATH, with
    /// O_RDONLY | O_NONBLOCK, with which a FIFO does not wait.
    /// </summary>
    internal static bool IsSpecialFile(string path)
    {
        var flags = OperatingSystem.IsMacOS() ? O_RDONLY | MacOSAbi.O_NONBLOCK | MacOSAbi.O_CLOEXEC : LinuxAbi.O_PATH | LinuxAbi.O_CLOEXEC;
        var fd = OpenNative(path, flags);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            return PosixSharedMemory.TryStat(fd, out var status, out _) && status.IsSpecial;
        }
        finally
        {
            _ = CloseNative(fd);
        }
    }

    /// <summary>rename(2): replaces <paramref name="to"/> atomically when it exists.</summary>
    internal static int Rename(string from, string to) => RenameNative(from, to) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>link(2): a second name for <paramref name="existing"/>; EEXIST when <paramref name="newName"/> exists.</summary>
    internal static int Link(string existing, string newName) => LinkNative(existing, newName) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Flushes a directory's entries (a rename or link in it) to stable storage. File systems that cannot
    /// sync a directory (EINVAL, ENOTSUP) count as done: there is nothing more to ask of them.</summary>
    internal static int SyncDirectory(string directory)
    {
        var fd = OpenNative(directory, O_RDONLY);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError();
        }

        try
        {
            if (FSync(fd) == 0)
            {
                return 0;
            }

            var errno = Marshal.GetLastPInvokeError();
            return errno == Libc.EINVAL || errno == ENOTSUP ? 0 : errno;
        }
        finally
        {
            _ = CloseNative(fd);
        }
    }

    [LibraryImport(LibraryName, EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt2(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);

    [LibraryImport(LibraryName, EntryPoint = "renamex_np", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameXNp(string from, string to, uint flags);

    [LibraryImport(LibraryName, EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameNative(string from, string to);

    [LibraryImport(LibraryName, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkNative(string existing, string newName);

    // open is variadic; without O_CREAT the mode argument is never read, so the two fixed arguments are all it takes
    // on every ABI (Apple arm64 passes variadic arguments on the stack, but there are none here).
    [LibraryImport(LibraryName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags);

    [LibraryImport(LibraryName, EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    private static partial int CloseNative(int fd);
}
