using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Memalloc.Core.Native;

/// <summary>
/// The libc calls the store needs: shmget, shmat, shmdt, shmctl, kill, getuid. Declarations are private and
/// source-generated (<see cref="LibraryImportAttribute"/>); the wrappers return what the caller has to decide on (a
/// shmid or -1 with the errno, an attachment or null) and <see cref="Failure"/> turns an errno into the one exception
/// the store throws, deciding its kind. The library name resolves through <see cref="LibraryResolver"/>.
/// Constants shared by Linux and macOS live here; what differs lives in one file per platform.
/// </summary>
internal static unsafe partial class Libc
{
    /// <summary>The name every declaration of this assembly imports from; <see cref="LibraryResolver"/> picks the file.</summary>
    internal const string LibraryName = "libc";

    // sys/ipc.h: identical values on Linux (bits/ipc.h) and macOS (sys/ipc.h).
    internal const int IPC_CREAT = 0x200;   // 01000
    internal const int IPC_EXCL = 0x400;    // 02000
    internal const int IPC_RMID = 0;
    internal const int IPC_STAT = 2;

    /// <summary>IPC_PRIVATE: the key of a segment that has none, which the kernel also reports once IPC_RMID marked a
    /// segment for destruction.</summary>
    internal const int IPC_PRIVATE = 0;

    // sys/stat.h permission bits, the low nine bits of ipc_perm.mode.
    internal const int ModeOwnerRead = 0x100;       // S_IRUSR, 0400
    internal const int ModeOwnerWrite = 0x80;       // S_IWUSR, 0200
    internal const int ModeGroupAndOther = 0x3F;    // S_IRWXG | S_IRWXO, 0077
    internal const int ModePermissionBits = 0x1FF;  // 0777

    // errno values the store reacts to; identical on Linux and macOS for these.
    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int ESRCH = 3;
    internal const int ENOMEM = 12;
    internal const int EACCES = 13;
    internal const int EEXIST = 17;
    internal const int EINVAL = 22;

    /// <summary>shmat: this process has as many segments attached as the kernel allows it (macOS kern.sysv.shmseg).</summary>
    internal const int EMFILE = 24;
    internal const int ENOSPC = 28;

    /// <summary>Linux 43, macOS 90: the segment was removed while we looked at it.</summary>
    internal static int EIDRM => OperatingSystem.IsMacOS() ? MacOSAbi.EIDRM : LinuxAbi.EIDRM;

    /// <summary>Linux 38, macOS 78: no System V IPC at all (WSL1).</summary>
    internal static int ENOSYS => OperatingSystem.IsMacOS() ? MacOSAbi.ENOSYS : LinuxAbi.ENOSYS;

    [LibraryImport(LibraryName, EntryPoint = "shmget", SetLastError = true)]
    private static partial int NativeShmGet(int key, nuint size, int shmflg);

    [LibraryImport(LibraryName, EntryPoint = "shmat", SetLastError = true)]
    private static partial IntPtr NativeShmAt(int shmid, IntPtr shmaddr, int shmflg);

    [LibraryImport(LibraryName, EntryPoint = "shmdt", SetLastError = true)]
    private static partial int NativeShmDt(IntPtr shmaddr);

    [LibraryImport(LibraryName, EntryPoint = "shmctl", SetLastError = true)]
    private static partial int NativeShmCtl(int shmid, int cmd, byte* buf);

    [LibraryImport(LibraryName, EntryPoint = "kill", SetLastError = true)]
    private static partial int NativeKill(int pid, int sig);

    [LibraryImport(LibraryName, EntryPoint = "getuid")]
    private static partial uint NativeGetUid();

    /// <summary>System V segments this process has attached through <see cref="ShmAt"/> and not yet detached.</summary>
    private static int s_attached;

    /// <summary>Segments this process has attached through <see cref="ShmAt"/> and not yet detached: what the attachment
    /// budget keeps below kern.sysv.shmseg.</summary>
    internal static int LiveAttachments => Volatile.Read(ref s_attached);

    /// <summary>TEST-ONLY: the per-process attachment limit that <see cref="ShmAt"/> enforces itself, failing with EMFILE
    /// past it as macOS does at kern.sysv.shmseg (Linux has no such limit). From MEMALLOC_TEST_SHMSEG; null when unset.</summary>
    internal static int? TestAttachmentLimit { get; } = SystemVLimits.TestAttachmentLimit();

    internal static uint GetUid() => NativeGetUid();

    /// <summary>shmget; returns the shmid, or -1 with <paramref name="errno"/> set.</summary>
    internal static int ShmGet(int key, long size, int flags, out int errno)
    {
        var id = NativeShmGet(key, (nuint)size, flags);
        errno = id < 0 ? Marshal.GetLastPInvokeError() : 0;
        return id;
    }

    /// <summary>The segment at <paramref name="key"/> (shmget(key, 0, 0): looks up, never creates); -1 with
    /// <paramref name="errno"/> (ENOENT: none).</summary>
    internal static int ShmLookup(int key, out int errno) => ShmGet(key, 0, 0, out errno);

    /// <summary>Creates a segment of this user at <paramref name="key"/> with mode 0600 (IPC_CREAT | IPC_EXCL): -1 with
    /// EEXIST when the key is taken.</summary>
    internal static int ShmCreate(int key, long size, out int errno) => ShmGet(key, size, IPC_CREAT | IPC_EXCL | ModeOwnerRead | ModeOwnerWrite, out errno);

    /// <summary>shmat read-write at an address the kernel picks; null with <paramref name="errno"/> on failure.
    /// <paramref name="size"/> is what the caller knows of the segment's size (IPC_STAT's, or what it created).
    /// Counted in <see cref="LiveAttachments"/>; past <see cref="TestAttachmentLimit"/>, fails with EMFILE without asking the
    /// kernel (the emulated kern.sysv.shmseg).</summary>
    internal static SharedMemoryAttachment? ShmAt(int shmid, long size, out int errno)
    {
        if (Interlocked.Increment(ref s_attached) > TestAttachmentLimit)
        {
            Interlocked.Decrement(ref s_attached);
            errno = EMFILE;
            return null;
        }

        var address = NativeShmAt(shmid, IntPtr.Zero, 0);
        if (address == new IntPtr(-1))
        {
            errno = Marshal.GetLastPInvokeError();
            Interlocked.Decrement(ref s_attached);
            return null;
        }

        errno = 0;
        return new SharedMemoryAttachment(address, shmid, size);
    }

    /// <summary>shmdt; a failure here cannot be acted upon (the address is ours), so it is only reported as bool.
    /// Only <see cref="SharedMemoryAttachment"/> detaches.</summary>
    internal static bool ShmDt(IntPtr address)
    {
        if (NativeShmDt(address) != 0)
        {
            return false;
        }

        Interlocked.Decrement(ref s_attached);
        return true;
    }

    /// <summary>IPC_STAT decoded through the platform's struct layout; false with <paramref name="errno"/> on failure.</summary>
    internal static bool TryStat(int shmid, out SegmentStatus status, out int errno)
    {
        // Larger than any platform's shmid_ds (Linux 112 bytes, macOS 76).
        var buffer = stackalloc byte[256];
        new Span<byte>(buffer, 256).Clear();
        if (NativeShmCtl(shmid, IPC_STAT, buffer) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            status = default;
            return false;
        }

        errno = 0;
        status = OperatingSystem.IsMacOS() ? MacOSAbi.DecodeShmidDs(buffer) : LinuxAbi.DecodeShmidDs(buffer);
        return true;
    }

    /// <summary>IPC_RMID; returns errno (0 on success).</summary>
    internal static int Remove(int shmid) => NativeShmCtl(shmid, IPC_RMID, null) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>True for the errno of a call on a shmid that no longer names a segment (removed meanwhile): EINVAL or EIDRM.</summary>
    internal static bool IsGone(int errno) => errno == EINVAL || errno == EIDRM;

    /// <summary>kill(pid, 0): true unless the process certainly does not exist (ESRCH).
    /// EPERM means it exists under another user: alive.</summary>
    internal static bool ProcessExists(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }

        return NativeKill(pid, 0) == 0 || Marshal.GetLastPInvokeError() != ESRCH;
    }

    /// <summary>
    /// The one place an errno becomes a failure kind: EACCES and EPERM are <see cref="MemStoreErrorKind.PermissionDenied"/>,
    /// ENOSYS <see cref="MemStoreErrorKind.PlatformNotSupported"/>; ENOMEM, ENOSPC (the kernel refused the memory or has no
    /// segment left) and EMFILE (shmat: the process has as many segments attached as it may) are
    /// <see cref="MemStoreErrorKind.CapacityExceeded"/>, and so is EINVAL from a shmget that creates (a size outside
    /// shmmin..shmmax: <paramref name="creating"/>); anything else is <see cref="MemStoreErrorKind.NativeFailure"/>.
    /// The cmdlets map kinds to error categories and never look at the errno.
    /// </summary>
    internal static MemStoreErrorKind Classify(int errno, bool creating = false) => errno switch
    {
        EACCES or EPERM => MemStoreErrorKind.PermissionDenied,
        ENOMEM or ENOSPC or EMFILE => MemStoreErrorKind.CapacityExceeded,
        EINVAL when creating => MemStoreErrorKind.CapacityExceeded,
        _ when errno == ENOSYS => MemStoreErrorKind.PlatformNotSupported,
        _ => MemStoreErrorKind.NativeFailure,
    };

    /// <summary>An exception for a failed call, of the kind <see cref="Classify"/> gives its errno; a capacity error names the
    /// System V limit that is the reason and the command that raises it.</summary>
    internal static MemStoreException Failure(string function, int errno, string what, bool creating = false)
    {
        var kind = Classify(errno, creating);
        var message = $"{what}: {function} failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).";
        message += kind switch
        {
            MemStoreErrorKind.PlatformNotSupported => " System V shared memory is not available here (WSL1 has none; use WSL2).",
            MemStoreErrorKind.CapacityExceeded => " " + LimitHint(function, errno, creating),
            _ => string.Empty,
        };
        return new MemStoreException(kind, message, function, errno);
    }

    /// <summary>An exception for a shmget that was to create a segment of <paramref name="size"/> bytes.</summary>
    internal static MemStoreException CreationFailure(int errno, long size, string what) =>
        Failure("shmget", errno, $"{what}: the kernel refused a shared memory segment of {size} bytes", creating: true);

    /// <summary>Which System V limit a refused shmget or shmat hit, by its errno (Linux ipc/shm.c; macOS bsd/kern/sysv_shm.c,
    /// shmget_allocate_segment and shmat): a size over shmmax is EINVAL; no segment left is ENOSPC (shmmni, and on Linux
    /// shmall too); over shmall on macOS is ENOMEM; one attachment too many is EMFILE (shmseg); EMFILE from shm_open is
    /// the open-file limit.</summary>
    internal static string LimitHint(string function, int errno, bool creating) => (function, errno) switch
    {
        ("shmat", EMFILE) => SystemVLimits.Hint(SystemVSetting.MaxAttachmentsPerProcess),
        ("shmget", EINVAL) when creating => SystemVLimits.Hint(SystemVSetting.MaxSegmentBytes),
        ("shmget", ENOSPC) => OperatingSystem.IsMacOS() ? SystemVLimits.Hint(SystemVSetting.MaxSegments)
            : SystemVLimits.Hint(SystemVSetting.MaxSegments, SystemVSetting.TotalPages),
        ("shmget", ENOMEM) when OperatingSystem.IsMacOS() => SystemVLimits.Hint(SystemVSetting.TotalPages),
        (_, EMFILE) => "The process has as many files open as it may ('ulimit -n' raises the limit).",
        _ => "The system is short of memory.",
    };
}
