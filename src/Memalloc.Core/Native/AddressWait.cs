using System;
using System.Threading;

namespace Memalloc.Core.Native;

/// <summary>How one <see cref="AddressWait.Wait"/> ended. Every outcome means "look again": a wake may be spurious or
/// meant for another name that shares the word.</summary>
internal enum AddressWaitResult
{
    /// <summary>The word did not hold the expected value (checked before sleeping, or by the kernel).</summary>
    Changed,
    /// <summary>Woken by <see cref="AddressWait.WakeAll"/> (or spuriously).</summary>
    Woken,
    /// <summary>The timeout passed.</summary>
    TimedOut,
    /// <summary>A signal interrupted the sleep (the runtime uses signals, e.g. to suspend threads for a GC).</summary>
    Interrupted,
}

/// <summary>
/// Sleep until a 32-bit word in shared memory changes, across processes: Linux futex, macOS os_sync_wait_on_address
/// or __ulock_wait (all shared, keyed by the backing page rather than the address), else an exponential sleep of at
/// most 10 ms. The word must be 4-byte aligned and stay mapped during the call. A waker changes the word first, then
/// calls <see cref="WakeAll"/>; a waiter reads the word, checks its condition, then waits for that value: a change in
/// between makes the kernel return at once, so no wake-up is lost (docs/coordination-design.md).
/// </summary>
internal static unsafe class AddressWait
{
    /// <summary>The fallback's longest sleep: a change is seen at most this long after it happens.</summary>
    internal const int MaxSleepMilliseconds = 10;

    /// <summary>Setting this environment variable to "sleep" forces the fallback (tests; a kernel whose primitive
    /// misbehaves). Read once per process.</summary>
    internal const string OverrideVariable = "MEMALLOC_WAIT";

    /// <summary>__ulock_wait takes a 32-bit count of microseconds; longer waits are cut (callers loop anyway).</summary>
    private const long MaxUlockMicroseconds = uint.MaxValue;

    internal static WaitPrimitive Primitive { get; } = Choose();

    private static WaitPrimitive Choose()
    {
        if (string.Equals(Environment.GetEnvironmentVariable(OverrideVariable), "sleep", StringComparison.OrdinalIgnoreCase))
        {
            return WaitPrimitive.Sleep;
        }

        var probe = 0;
        if (OperatingSystem.IsLinux())
        {
            // A wake with nobody waiting answers 0; ENOSYS (an emulator without futex) or EPERM (a seccomp filter)
            // mean the kernel will not let us sleep on the word.
            return LinuxFutex.SyscallNumber != 0 && LinuxFutex.WakeAll(&probe) >= 0 ? WaitPrimitive.Futex : WaitPrimitive.Sleep;
        }

        if (OperatingSystem.IsMacOS())
        {
            if (DarwinUlock.HasOsSync())
            {
                return WaitPrimitive.OsSyncWaitOnAddress;
            }

            var errno = DarwinUlock.WakeAllUlock(&probe);
            return errno is 0 or DarwinUlock.ENOENT ? WaitPrimitive.Ulock : WaitPrimitive.Sleep;
        }

        return WaitPrimitive.Sleep;
    }

    /// <summary>Sleeps while <c>*word == expected</c>, at most <paramref name="timeout"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: no limit). Returns at once with <see cref="AddressWaitResult.Changed"/>
    /// when the word already differs.</summary>
    internal static AddressWaitResult Wait(int* word, int expected, TimeSpan timeout)
    {
        if (Volatile.Read(ref *word) != expected)
        {
            return AddressWaitResult.Changed;
        }

        var infinite = timeout == Timeout.InfiniteTimeSpan;
        if (!infinite && timeout <= TimeSpan.Zero)
        {
            return AddressWaitResult.TimedOut;
        }

        return Primitive switch
        {
            WaitPrimitive.Futex => WaitFutex(word, expected, timeout, infinite),
            WaitPrimitive.OsSyncWaitOnAddress => Classify(
                DarwinUlock.WaitOsSync(word, expected, infinite ? 0 : (ulong)Math.Max(1, timeout.Ticks * 100)),
                DarwinUlock.ETIMEDOUT, DarwinUlock.EINTR, "os_sync_wait_on_address"),
            WaitPrimitive.Ulock => Classify(
                DarwinUlock.WaitUlock(word, expected, infinite ? 0 : (uint)Math.Clamp((timeout.Ticks + 9) / 10, 1, MaxUlockMicroseconds)),
                DarwinUlock.ETIMEDOUT, DarwinUlock.EINTR, "__ulock_wait"),
            _ => WaitBySleeping(word, expected, timeout, infinite),
        };
    }

    /// <summary>Wakes every thread of every process waiting on <paramref name="word"/>. One system call; callers make it
    /// only when a waiter is registered. The fallback has nothing to wake: its waiters see the changed word.</summary>
    internal static void WakeAll(int* word)
    {
        switch (Primitive)
        {
            case WaitPrimitive.Futex:
                var woken = LinuxFutex.WakeAll(word);
                if (woken < 0)
                {
                    throw Libc.Failure("futex", -woken, "Waking the waiters of a shared word");
                }

                break;
            case WaitPrimitive.OsSyncWaitOnAddress:
                ThrowUnlessWoken(DarwinUlock.WakeAllOsSync(word), "os_sync_wake_by_address_all");
                break;
            case WaitPrimitive.Ulock:
                ThrowUnlessWoken(DarwinUlock.WakeAllUlock(word), "__ulock_wake");
                break;
        }
    }

    private static void ThrowUnlessWoken(int errno, string function)
    {
        if (errno is not (0 or DarwinUlock.ENOENT))
        {
            throw Libc.Failure(function, errno, "Waking the waiters of a shared word");
        }
    }

    private static AddressWaitResult WaitFutex(int* word, int expected, TimeSpan timeout, bool infinite)
    {
        var relative = new LinuxFutex.Timespec { Seconds = timeout.Ticks / TimeSpan.TicksPerSecond, Nanoseconds = timeout.Ticks % TimeSpan.TicksPerSecond * 100 };
        var errno = LinuxFutex.Wait(word, expected, infinite ? null : &relative);
        return errno == LinuxFutex.EAGAIN ? AddressWaitResult.Changed : Classify(errno, LinuxFutex.ETIMEDOUT, LinuxFutex.EINTR, "futex");
    }

    private static AddressWaitResult Classify(int errno, int timedOut, int interrupted, string function) =>
        errno == 0 ? AddressWaitResult.Woken
        : errno == timedOut ? AddressWaitResult.TimedOut
        : errno == interrupted ? AddressWaitResult.Interrupted
        : throw Libc.Failure(function, errno, "Waiting for a change of a shared word");

    /// <summary>The fallback: look at the word after sleeps of 1, 2, 4, 8, then 10 ms.</summary>
    private static AddressWaitResult WaitBySleeping(int* word, int expected, TimeSpan timeout, bool infinite)
    {
        var deadline = infinite ? long.MaxValue : Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        var sleep = 1;
        while (true)
        {
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                return AddressWaitResult.TimedOut;
            }

            Thread.Sleep((int)Math.Min(sleep, left));
            if (Volatile.Read(ref *word) != expected)
            {
                return AddressWaitResult.Changed;
            }

            sleep = Math.Min(sleep * 2, MaxSleepMilliseconds);
        }
    }
}
