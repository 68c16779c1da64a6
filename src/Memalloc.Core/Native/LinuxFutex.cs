using System;
using System.Runtime.InteropServices;

namespace Memalloc.Core.Native;

/// <summary>
/// Linux futex(2) through syscall(2) (glibc and musl have no futex wrapper), on a 32-bit word in shared memory.
/// Follows the kernel's include/uapi/linux/futex.h (FUTEX_WAIT 0, FUTEX_WAKE 1, FUTEX_PRIVATE_FLAG 128) and the
/// syscall tables (x86_64 arch/x86/entry/syscalls/syscall_64.tbl: 202; arm64 and loongarch64 use
/// include/uapi/asm-generic/unistd.h: 98; elsewhere the caller falls back to sleeping). The private flag is deliberately NOT used: a private futex is keyed by
/// (process, virtual address), a shared one by the page's backing object and offset, so that a waiter and a waker
/// in different processes meet on a System V segment whatever address each mapped it at.
/// <code>
/// long syscall(SYS_futex, uint32_t *uaddr, int op, uint32_t val, const struct timespec *timeout, uint32_t *uaddr2, uint32_t val3);
/// struct timespec { time_t tv_sec @0; long tv_nsec @8; }   // 16 bytes on every 64-bit target
/// </code>
/// FUTEX_WAIT's timeout is relative (CLOCK_MONOTONIC); it returns 0 when woken (perhaps spuriously), else -1 with
/// EAGAIN (the word did not hold the expected value), ETIMEDOUT or EINTR. FUTEX_WAKE returns how many it woke.
/// syscall is variadic: on x86_64 and on AAPCS64 Linux (not Apple's arm64 ABI) integer and pointer arguments of a
/// variadic call travel in the same registers as a fixed one's, so a fixed seven-argument declaration is exact.
/// </summary>
internal static unsafe partial class LinuxFutex
{
    private const string LibraryName = "libc";

    internal const int FUTEX_WAIT = 0;
    internal const int FUTEX_WAKE = 1;

    // asm-generic/errno-base.h and errno.h (Linux values; macOS differs).
    internal const int EINTR = 4;
    internal const int EAGAIN = 11;
    internal const int EPERM = 1;
    internal const int ENOSYS = 38;
    internal const int ETIMEDOUT = 110;

    [StructLayout(LayoutKind.Sequential)]
    internal struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>SYS_futex for this process's architecture; 0 where this code does not know it (the caller then sleeps
    /// instead of waiting in the kernel).</summary>
    internal static nint SyscallNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 or Architecture.LoongArch64 => 98,
        _ => 0,
    };

    [LibraryImport(LibraryName, EntryPoint = "syscall", SetLastError = true)]
    private static partial nint Syscall(nint number, int* address, int operation, int value, Timespec* timeout, int* address2, int value3);

    /// <summary>FUTEX_WAIT: sleeps while <c>*word == expected</c>, at most <paramref name="timeout"/> (null: no limit).
    /// Returns 0 when woken, else the errno (EAGAIN, ETIMEDOUT, EINTR, or a failure such as ENOSYS).</summary>
    internal static int Wait(int* word, int expected, Timespec* timeout)
    {
        return Syscall(SyscallNumber, word, FUTEX_WAIT, expected, timeout, null, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>FUTEX_WAKE of every waiter on <paramref name="word"/>. Returns the number woken, or -errno.</summary>
    internal static int WakeAll(int* word)
    {
        var woken = Syscall(SyscallNumber, word, FUTEX_WAKE, int.MaxValue, null, null, 0);
        return woken >= 0 ? (int)woken : -Marshal.GetLastPInvokeError();
    }
}
