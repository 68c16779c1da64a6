using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using Memalloc.Core;
using Microsoft.Win32.SafeHandles;

namespace Memalloc.Benchmarks;

/// <summary>
/// The cross-process coordination measurements (tests/Benchmarks/Coordination.Bench.ps1 starts them):
/// <list type="bullet">
/// <item><c>wake-latency STORE ROUNDS</c>: starts <c>wake-pong STORE</c>, then per round waits until the pong process
/// is asleep on the bucket of 'ping', reads the monotonic clock, writes 'ping'; the pong process reads the clock as its
/// wait returns and writes it to 'pong'. Prints one latency (ns) per line: the second reading minus the first.</item>
/// <item><c>lock-waiter-cpu STORE SECONDS</c>: the CPU time a process waiting for a held lock uses.</item>
/// <item><c>lock-worker STORE MODE SECONDS</c>: MODE memalloc, mutex or flock; takes and gives back the lock for
/// SECONDS after 'go' on stdin, prints the count.</item>
/// </list>
/// </summary>
internal static class CoordinationProcesses
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    internal static int WakeLatency(string storeName, int rounds)
    {
        using var store = MemStore.Open(storeName);
        var pong = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["wake-pong", storeName]) { UseShellExecute = false })!;
        try
        {
            var pingBucket = WaitBuckets.IndexOf(StackName.Hash("ping"));
            long pongVersion = 0;
            for (var round = 0; round < rounds; round++)
            {
                // The pong process registers on ping's bucket before it sleeps; wait for that (it is never this one).
                var deadline = Environment.TickCount64 + 30_000;
                while (store.BucketWaiters(pingBucket) == 0)
                {
                    if (Environment.TickCount64 > deadline || pong.HasExited)
                    {
                        throw new TimeoutException("the pong process is not waiting");
                    }

                    Thread.SpinWait(100);
                }

                Thread.Sleep(1); // let it fall asleep in the kernel: the latency measured is a wake, not a spin
                var start = Stopwatch.GetTimestamp();
                store.Set("ping", BitConverter.GetBytes(start));
                store.WaitForChange("pong", pongVersion, TimeSpan.FromSeconds(30), default, out var info);
                pongVersion = info!.Version;
                var woke = BitConverter.ToInt64(store.Get("pong")!);
                Console.WriteLine(((woke - start) * 1_000_000_000L / Stopwatch.Frequency).ToString(s_inv));
            }
        }
        finally
        {
            store.Set("stop", [1]);
            store.Set("ping", [0]);
            pong.WaitForExit(10_000);
            store.Dispose();
            MemStore.DestroyStore(storeName);
        }

        return 0;
    }

    internal static int WakePong(string storeName)
    {
        using var store = MemStore.OpenExisting(storeName)!;
        long seen = store.GetInfo("ping")?.Version ?? 0;
        while (true)
        {
            store.WaitForChange("ping", seen, Timeout.InfiniteTimeSpan, default, out var info);
            var woke = Stopwatch.GetTimestamp();
            if (store.Exists("stop"))
            {
                return 0;
            }

            seen = info?.Version ?? 0;
            store.Set("pong", BitConverter.GetBytes(woke));
        }
    }

    /// <summary><c>lock-waiter-cpu STORE SECONDS</c>: holds lock 'bench' and starts <c>lock-waiter</c>, which waits for it
    /// for SECONDS and prints the CPU time its waiting thread used (ns); prints that.</summary>
    internal static int LockWaiterCpu(string storeName, double seconds)
    {
        using (var store = MemStore.Open(storeName))
        using (store.AcquireLock("bench", 1, TimeSpan.Zero))
        {
            var waiter = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["lock-waiter", storeName, seconds.ToString(s_inv)])
            { UseShellExecute = false, RedirectStandardOutput = true })!;
            Console.WriteLine(waiter.StandardOutput.ReadToEnd().Trim());
            waiter.WaitForExit();
        }

        MemStore.DestroyStore(storeName);
        return 0;
    }

    internal static int LockWaiter(string storeName, double seconds)
    {
        using var store = MemStore.OpenExisting(storeName)!;
        store.AcquireLock("bench", 2, TimeSpan.FromMilliseconds(200))?.Dispose(); // warm up the waiting code
        var before = CpuClock.ThreadNowNs();
        store.AcquireLock("bench", 2, TimeSpan.FromSeconds(seconds))?.Dispose();
        Console.WriteLine((CpuClock.ThreadNowNs() - before).ToString(s_inv));
        return 0;
    }

    internal static int LockWorker(string storeName, string mode, double seconds)
    {
        using var store = MemStore.Open(storeName);
        using var mutex = new Mutex(false, "memalloc-" + storeName);
        using SafeFileHandle file = FileLock.Open(Path.Combine(Path.GetTempPath(), "memalloc-" + storeName + ".lock"));
        Action once = mode switch
        {
            "memalloc" => () => store.AcquireLock("bench", 1, Timeout.InfiniteTimeSpan)!.Dispose(),
            "mutex" => () =>
            {
                mutex.WaitOne();
                mutex.ReleaseMutex();
            },
            "flock" => () =>
            {
                FileLock.Take(file);
                FileLock.Release(file);
            },
            _ => throw new ArgumentException("mode: memalloc, mutex or flock"),
        };
        for (var i = 0; i < 1000; i++)
        {
            once(); // warm up
        }

        Console.WriteLine("ready");
        if (Console.ReadLine() != "go")
        {
            return 1;
        }

        var watch = Stopwatch.StartNew();
        long count = 0;
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            once();
            count++;
        }

        Console.WriteLine(count.ToString(s_inv));
        return 0;
    }
}
