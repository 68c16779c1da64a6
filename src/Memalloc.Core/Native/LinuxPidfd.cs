using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Memalloc.Core.Native;

/// <summary>
/// pidfd_open(2) (Linux 5.3+) and poll(2): a descriptor of one process that becomes readable when the process exits,
/// before its parent reaps it, and never refers to a later process that gets the same pid. Asking it is one poll, where
/// the full liveness test (kill, then /proc/&lt;pid&gt;/stat) is a file open and parse: a lock waiter asks every 50 ms.
/// SYS_pidfd_open is 434 in every table (x86_64 syscall_64.tbl and asm-generic/unistd.h alike); syscall(2) is variadic,
/// declared with fixed integer arguments as <see cref="LinuxFutex"/> explains. Where the kernel refuses (ENOSYS before
/// 5.3, EPERM under a seccomp filter) the caller falls back to the full test.
/// </summary>
internal static unsafe partial class LinuxPidfd
{
    private const nint SysPidfdOpen = 434;
    private const short PollIn = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Descriptor;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport(Libc.LibraryName, EntryPoint = "syscall", SetLastError = true)]
    private static partial nint Syscall(nint number, nint pid, nint flags);

    [LibraryImport(Libc.LibraryName, EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollDescriptor* descriptors, nuint count, int timeoutMilliseconds);

    /// <summary>A pidfd of <paramref name="pid"/>; null where there is none (not Linux, an old kernel, a filter, or the
    /// process is gone).</summary>
    internal static SafeFileHandle? Open(int pid)
    {
        if (!OperatingSystem.IsLinux() || LinuxFutex.SyscallNumber == 0)
        {
            return null; // an architecture whose syscall table this code does not know
        }

        var descriptor = Syscall(SysPidfdOpen, pid, 0);
        return descriptor < 0 ? null : new SafeFileHandle(descriptor, ownsHandle: true);
    }

    /// <summary>True once the process has exited (a zombie included); false while it runs, or when poll fails.</summary>
    internal static bool HasExited(SafeFileHandle pidfd)
    {
        var added = false;
        try
        {
            pidfd.DangerousAddRef(ref added);
            var poll = new PollDescriptor { Descriptor = (int)pidfd.DangerousGetHandle(), Events = PollIn };
            return Poll(&poll, 1, 0) > 0 && (poll.ReturnedEvents & PollIn) != 0;
        }
        finally
        {
            if (added)
            {
                pidfd.DangerousRelease();
            }
        }
    }
}
