using System;
using System.Runtime.InteropServices;
using Perfolizer.Horology;

namespace Memalloc.Benchmarks;

/// <summary>
/// The process's CPU time (CLOCK_PROCESS_CPUTIME_ID: user and kernel time of all its threads, so page faults and GC
/// count) as a BenchmarkDotNet clock. On a machine shared with other builds a wall clock also counts the time this
/// process spent waiting for a core; CPU time does not, so single-process ratios stay comparable. Process-spanning
/// measurements (Redis, reader processes) keep the wall clock.
/// </summary>
internal sealed partial class CpuClock : IClock
{
    private const int ClockProcessCpuTimeId = 2; // <linux/time.h> CLOCK_PROCESS_CPUTIME_ID
    private const int ClockThreadCpuTimeId = 3;  // CLOCK_THREAD_CPUTIME_ID

    public static readonly CpuClock Instance = new();

    public string Title => "Process CPU time";

    public bool IsAvailable => OperatingSystem.IsLinux();

    public Frequency Frequency => new(1e9);

    public long GetTimestamp() => NowNs();

    /// <summary>CPU time of the calling thread in nanoseconds (CLOCK_THREAD_CPUTIME_ID).</summary>
    public static long ThreadNowNs()
    {
        if (ClockGetTime(ClockThreadCpuTimeId, out var time) != 0)
        {
            throw new InvalidOperationException($"clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        return (time.Seconds * 1_000_000_000L) + time.Nanoseconds;
    }

    /// <summary>CPU time of this process in nanoseconds.</summary>
    public static long NowNs()
    {
        if (ClockGetTime(ClockProcessCpuTimeId, out var time) != 0)
        {
            throw new InvalidOperationException($"clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        return (time.Seconds * 1_000_000_000L) + time.Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static partial int ClockGetTime(int clockId, out TimeSpec time);
}
