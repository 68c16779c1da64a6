using System;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Memalloc.Core.Native;

/// <summary>Status of one System V segment as IPC_STAT reports it, in the same shape on every platform
/// (the raw <c>struct shmid_ds</c> differs: see <see cref="LinuxAbi"/> and <see cref="MacOSAbi"/>).</summary>
internal readonly record struct SegmentStatus(int Key, uint Uid, uint Gid, uint Cuid, uint Cgid, int Mode, long Size, int CreatorPid, long Attached);

/// <summary>
/// The libc calls the store needs: shmget, shmat, shmdt, shmctl, kill, getuid. Declarations are private;
/// the wrappers turn a failure into a <see cref="MemStoreException"/> carrying the function name and errno,
/// or return the errno where the caller has something to decide (EEXIST, ENOENT, ESRCH...).
/// Constants shared by Linux and macOS live here; what differs lives in one file per platform.
/// </summary>
internal static unsafe class Libc
{
    private const string LibraryName = "libc";

    // sys/ipc.h: identical values on Linux (bits/ipc.h) and macOS (sys/ipc.h).
    internal const int IPC_CREAT = 0x200;   // 01000
    internal const int IPC_EXCL = 0x400;    // 02000
    internal const int IPC_RMID = 0;
    internal const int IPC_STAT = 2;

    // errno values the store reacts to; identical on Linux and macOS for these.
    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int ESRCH = 3;
    internal const int ENOMEM = 12;
    internal const int EACCES = 13;
    internal const int EEXIST = 17;
    internal const int EINVAL = 22;
    internal const int ENOSPC = 28;
    /// <summary>Linux 43, macOS 82: the segment was removed while we looked at it.</summary>
    internal static int EIDRM => OperatingSystem.IsMacOS() ? MacOSAbi.EIDRM : LinuxAbi.EIDRM;
    /// <summary>Linux 38, macOS 78: no System V IPC at all (WSL1).</summary>
    internal static int ENOSYS => OperatingSystem.IsMacOS() ? MacOSAbi.ENOSYS : LinuxAbi.ENOSYS;

    static Libc()
    {
        NativeLibrary.SetDllImportResolver(typeof(Libc).Assembly, Resolve);
    }

    /// <summary>Touch to make sure the resolver is installed before the first P/Invoke.</summary>
    internal static void EnsureInitialized()
    {
    }

    // "libc" alone does not resolve everywhere (glibc's libc.so is a linker script, musl names it after
    // the loader), so pick the real file per platform; MEMALLOC_LIBC overrides for odd systems.
    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != LibraryName)
        {
            return IntPtr.Zero;
        }

        var overridePath = Environment.GetEnvironmentVariable("MEMALLOC_LIBC");
        if (!string.IsNullOrEmpty(overridePath) && NativeLibrary.TryLoad(overridePath, out var handle))
        {
            return handle;
        }

        string[] candidates = OperatingSystem.IsMacOS()
            ? ["/usr/lib/libSystem.B.dylib", "libc.dylib"]
            : ["libc.so.6", "libc.musl-" + (RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "aarch64" : "x86_64") + ".so.1", "libc.so"];
        foreach (var candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }

    [DllImport(LibraryName, EntryPoint = "shmget", SetLastError = true)]
    private static extern int shmget_native(int key, nuint size, int shmflg);

    [DllImport(LibraryName, EntryPoint = "shmat", SetLastError = true)]
    private static extern IntPtr shmat_native(int shmid, IntPtr shmaddr, int shmflg);

    [DllImport(LibraryName, EntryPoint = "shmdt", SetLastError = true)]
    private static extern int shmdt_native(IntPtr shmaddr);

    [DllImport(LibraryName, EntryPoint = "shmctl", SetLastError = true)]
    private static extern int shmctl_native(int shmid, int cmd, byte* buf);

    [DllImport(LibraryName, EntryPoint = "kill", SetLastError = true)]
    private static extern int kill_native(int pid, int sig);

    [DllImport(LibraryName, EntryPoint = "getuid")]
    private static extern uint getuid_native();

    internal static uint GetUid() => getuid_native();

    /// <summary>shmget; returns the shmid, or -1 with <paramref name="errno"/> set.</summary>
    internal static int ShmGet(int key, long size, int flags, out int errno)
    {
        var id = shmget_native(key, (nuint)size, flags);
        errno = id < 0 ? Marshal.GetLastPInvokeError() : 0;
        return id;
    }

    /// <summary>shmat read-write at an address the kernel picks; null with <paramref name="errno"/> on failure.</summary>
    internal static byte* ShmAt(int shmid, out int errno)
    {
        var address = shmat_native(shmid, IntPtr.Zero, 0);
        if (address == new IntPtr(-1))
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return (byte*)address;
    }

    /// <summary>shmdt; a failure here cannot be acted upon (the address is ours), so it is only reported as bool.</summary>
    internal static bool ShmDt(byte* address) => shmdt_native((IntPtr)address) == 0;

    /// <summary>IPC_STAT decoded through the platform's struct layout; false with <paramref name="errno"/> on failure.</summary>
    internal static bool TryStat(int shmid, out SegmentStatus status, out int errno)
    {
        // Larger than any platform's shmid_ds (Linux 112 bytes, macOS 76).
        var buffer = stackalloc byte[256];
        new Span<byte>(buffer, 256).Clear();
        if (shmctl_native(shmid, IPC_STAT, buffer) != 0)
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
    internal static int Remove(int shmid)
    {
        return shmctl_native(shmid, IPC_RMID, null) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>kill(pid, 0): true unless the process certainly does not exist (ESRCH).
    /// EPERM means it exists under another user: alive.</summary>
    internal static bool ProcessExists(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }

        return kill_native(pid, 0) == 0 || Marshal.GetLastPInvokeError() != ESRCH;
    }

    /// <summary>An exception for a failed call, with the kind the errno suggests.</summary>
    internal static MemStoreException Failure(string function, int errno, string what)
    {
        var kind = errno switch
        {
            EACCES or EPERM => MemStoreErrorKind.PermissionDenied,
            _ when errno == ENOSYS => MemStoreErrorKind.PlatformNotSupported,
            _ => MemStoreErrorKind.NativeFailure,
        };
        var message = $"{what}: {function} failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).";
        if (kind == MemStoreErrorKind.PlatformNotSupported)
        {
            message += " System V shared memory is not available here (WSL1 has none; use WSL2).";
        }

        return new MemStoreException(kind, message, function, errno);
    }
}
