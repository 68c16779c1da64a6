using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using Memalloc.Core;
using Memalloc.Core.Native;

namespace Memalloc.TestHost;

/// <summary>
/// <c>wait-word SHMID OFFSET EXPECTED TIMEOUT_MS</c>: attaches a System V segment and waits with the core's wait
/// primitive until the 32-bit word at OFFSET differs from EXPECTED or TIMEOUT_MS passes. Prints
/// <c>READY pid tid primitive</c> before the first wait, then
/// <c>WOKE value outcomes cpu_us voluntary_switches involuntary_switches</c>, where outcomes lists what each wait call
/// returned (<c>-</c> for none: the word changed before the first wait) and the figures are the waiting thread's own (getrusage RUSAGE_THREAD), so that the test can tell a thread
/// that slept in the kernel from one that spun or polled.
/// </summary>
internal static unsafe partial class WaitWordCommand
{
    private const int RusageThread = 1;

    /// <summary>Linux struct rusage on 64-bit targets: two struct timeval (16 bytes each), then 14 longs
    /// (ru_maxrss ... ru_nsignals, ru_nvcsw @128, ru_nivcsw @136).</summary>
    private const int RusageSize = 144;

    [LibraryImport("libc.so.6", EntryPoint = "getrusage", SetLastError = true)]
    private static partial int GetRusage(int who, byte* usage);

    internal static int Run(string[] args)
    {
        var inv = CultureInfo.InvariantCulture;
        var shmid = int.Parse(args[1], inv);
        var offset = int.Parse(args[2], inv);
        var expected = int.Parse(args[3], inv);
        var timeout = TimeSpan.FromMilliseconds(int.Parse(args[4], inv));
        var address = SysVTestNative.ShmAt(shmid, readOnly: false, out var errno);
        if (address == IntPtr.Zero)
        {
            Say($"ERROR shmat errno {errno}");
            return 3;
        }

        var word = (int*)((byte*)address + offset);
        // "/proc/thread-self" links to "<pid>/task/<tid>": the waiting thread, whose state the test reads in /proc.
        var threadId = Path.GetFileName(new FileInfo("/proc/thread-self").LinkTarget);
        var primitive = AddressWait.Primitive;
        var warmUp = 0; // compile the wait path before measuring it
        AddressWait.Wait(&warmUp, 0, TimeSpan.FromMilliseconds(1));
        Say($"READY {Environment.ProcessId} {threadId} {primitive}");
        var outcomes = new List<AddressWaitResult>();
        var before = ThreadUsage();
        var deadline = DateTime.UtcNow + timeout;
        while (Volatile.Read(ref *word) == expected)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            outcomes.Add(AddressWait.Wait(word, expected, left));
        }

        var after = ThreadUsage();
        Say(string.Create(inv, $"WOKE {Volatile.Read(ref *word)} {(outcomes.Count == 0 ? "-" : string.Join(',', outcomes))} {after.CpuMicroseconds - before.CpuMicroseconds} "
            + $"{after.Voluntary - before.Voluntary} {after.Involuntary - before.Involuntary}"));
        SysVTestNative.ShmDt(address);
        return 0;
    }

    private static void Say(string line) => Console.Out.WriteLine(line + " .");

    internal static (long CpuMicroseconds, long Voluntary, long Involuntary) ThreadUsage()
    {
        var usage = stackalloc byte[RusageSize];
        if (GetRusage(RusageThread, usage) != 0)
        {
            throw new IOException($"getrusage failed with errno {Marshal.GetLastPInvokeError()}");
        }

        var words = (long*)usage;
        // ru_utime {sec @0, usec @8}, ru_stime {sec @16, usec @24}
        var cpu = ((words[0] + words[2]) * 1_000_000) + words[1] + words[3];
        return (cpu, words[16], words[17]);
    }
}
