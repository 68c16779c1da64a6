using System;
using System.Runtime.InteropServices;

namespace Memalloc.Core.Native;

/// <summary>
/// macOS compare-and-wait on a 32-bit word shared between processes. Two entry points into the same kernel facility
/// (XNU bsd/kern/sys_ulock.c, sys_ulock_wait2 / ulock_wake):
/// <list type="bullet">
/// <item><c>os_sync_wait_on_address_with_timeout</c> / <c>os_sync_wake_by_address_all</c> with
/// <c>OS_SYNC_WAIT_ON_ADDRESS_SHARED</c> / <c>OS_SYNC_WAKE_BY_ADDRESS_SHARED</c> (= 1), the public API of macOS 14.4+
/// (SDK header os/os_sync_wait_on_address.h; clock <c>OS_CLOCK_MACH_ABSOLUTE_TIME</c> = 32 from os/clock.h; the timeout
/// is in nanoseconds). Looked up with <see cref="NativeLibrary.TryGetExport"/> because older systems lack it.</item>
/// <item><c>__ulock_wait</c> / <c>__ulock_wake</c> (XNU bsd/sys/ulock.h; macOS 10.12+): operation
/// <c>UL_COMPARE_AND_WAIT_SHARED</c> (3), flags <c>ULF_WAKE_ALL</c> (0x100) and <c>ULF_NO_ERRNO</c> (0x01000000, so the
/// result is -errno rather than errno), timeout in microseconds, 0 = none.</item>
/// </list>
/// Both key a shared wait by the VM object and offset of the page (ULK_XPROC in sys_ulock.c), so processes that map
/// one System V segment at different addresses meet. A 4-byte shared os_sync wait IS a UL_COMPARE_AND_WAIT_SHARED
/// ulock: the kernel answers EDOM when waiters of one word use different operations, so this code uses the 4-byte
/// shared operation on every path and processes on either entry point interoperate.
/// Untested on this project's machines (only Linux runs here): kept small and checked against the headers.
/// </summary>
internal static unsafe partial class DarwinUlock
{
    private const string LibraryName = "libc";

    internal const uint UL_COMPARE_AND_WAIT_SHARED = 3;
    internal const uint ULF_WAKE_ALL = 0x0000_0100;
    internal const uint ULF_NO_ERRNO = 0x0100_0000;
    internal const uint OS_SYNC_WAIT_ON_ADDRESS_SHARED = 1;
    internal const uint OS_SYNC_WAKE_BY_ADDRESS_SHARED = 1;
    internal const uint OS_CLOCK_MACH_ABSOLUTE_TIME = 32;

    // bsd/sys/errno.h
    internal const int ENOENT = 2;
    internal const int EINTR = 4;
    internal const int EFAULT = 14;
    internal const int ETIMEDOUT = 60;

    [LibraryImport(LibraryName, EntryPoint = "__ulock_wait")]
    private static partial int UlockWait(uint operation, void* address, ulong value, uint timeoutMicroseconds);

    [LibraryImport(LibraryName, EntryPoint = "__ulock_wake")]
    private static partial int UlockWake(uint operation, void* address, ulong wakeValue);

    [LibraryImport(LibraryName, EntryPoint = "os_sync_wait_on_address_with_timeout", SetLastError = true)]
    private static partial int OsSyncWaitOnAddressWithTimeout(void* address, ulong value, nuint size, uint flags, uint clock, ulong timeoutNanoseconds);

    [LibraryImport(LibraryName, EntryPoint = "os_sync_wait_on_address", SetLastError = true)]
    private static partial int OsSyncWaitOnAddress(void* address, ulong value, nuint size, uint flags);

    [LibraryImport(LibraryName, EntryPoint = "os_sync_wake_by_address_all", SetLastError = true)]
    private static partial int OsSyncWakeByAddressAll(void* address, nuint size, uint flags);

    /// <summary>True when this system has the os_sync API (macOS 14.4 and later).</summary>
    internal static bool HasOsSync()
    {
        if (!NativeLibrary.TryLoad(LibraryName, typeof(DarwinUlock).Assembly, null, out var library))
        {
            return false;
        }

        return NativeLibrary.TryGetExport(library, "os_sync_wait_on_address_with_timeout", out _)
            && NativeLibrary.TryGetExport(library, "os_sync_wait_on_address", out _)
            && NativeLibrary.TryGetExport(library, "os_sync_wake_by_address_all", out _);
    }

    /// <summary>Sleeps while <c>*word == expected</c>, at most <paramref name="timeoutNanoseconds"/> (0: no limit).
    /// Returns 0 when woken or the word differed, else the errno (ETIMEDOUT, EINTR, EFAULT...).</summary>
    internal static int WaitOsSync(int* word, int expected, ulong timeoutNanoseconds)
    {
        var result = timeoutNanoseconds == 0
            ? OsSyncWaitOnAddress(word, (uint)expected, sizeof(int), OS_SYNC_WAIT_ON_ADDRESS_SHARED)
            : OsSyncWaitOnAddressWithTimeout(word, (uint)expected, sizeof(int), OS_SYNC_WAIT_ON_ADDRESS_SHARED, OS_CLOCK_MACH_ABSOLUTE_TIME, timeoutNanoseconds);
        return result >= 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Wakes every waiter; 0, or the errno (ENOENT when nobody waited, which is not a failure).</summary>
    internal static int WakeAllOsSync(int* word) =>
        OsSyncWakeByAddressAll(word, sizeof(int), OS_SYNC_WAKE_BY_ADDRESS_SHARED) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>As <see cref="WaitOsSync"/> through __ulock_wait; the timeout is in microseconds (0: no limit).</summary>
    internal static int WaitUlock(int* word, int expected, uint timeoutMicroseconds)
    {
        var result = UlockWait(UL_COMPARE_AND_WAIT_SHARED | ULF_NO_ERRNO, word, (uint)expected, timeoutMicroseconds);
        return result >= 0 ? 0 : -result;
    }

    /// <summary>As <see cref="WakeAllOsSync"/> through __ulock_wake.</summary>
    internal static int WakeAllUlock(int* word)
    {
        var result = UlockWake(UL_COMPARE_AND_WAIT_SHARED | ULF_WAKE_ALL | ULF_NO_ERRNO, word, 0);
        return result >= 0 ? 0 : -result;
    }
}
