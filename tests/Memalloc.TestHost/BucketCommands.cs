using System;
using System.Globalization;
using System.Threading;
using Memalloc.Core;

namespace Memalloc.TestHost;

/// <summary>
/// Children for the wait-bucket tests, on a System V segment used as an anchor page (the counters sit at the start of
/// it, below the coordination ranges):
/// <list type="bullet">
/// <item><c>bucket-pong SHMID ROUNDS PING_HASH PONG_HASH</c>: for each round r, waits on the bucket of PING_HASH until
/// the ping counter (offset 0) reaches r, then sets the pong counter (offset 8) to r and wakes the bucket of PONG_HASH,
/// as a writer does after its commit. Slices of an hour: a lost wake-up hangs, and the test reports the hang. Prints DONE ROUNDS.</item>
/// <item><c>bucket-wait SHMID HASH</c>: registers on the bucket of HASH and waits for ever (the test kills it).</item>
/// </list>
/// </summary>
internal static unsafe class BucketCommands
{
    internal static int Pong(string[] args)
    {
        var anchor = Attach(args[1]);
        var rounds = long.Parse(args[2], CultureInfo.InvariantCulture);
        var pingHash = ulong.Parse(args[3], CultureInfo.InvariantCulture);
        var pongHash = ulong.Parse(args[4], CultureInfo.InvariantCulture);
        var ping = (long*)anchor;
        var pong = (long*)(anchor + 8);
        Say($"READY {Environment.ProcessId}");
        for (long round = 1; round <= rounds; round++)
        {
            var r = round;
            WaitBuckets.WaitUntil(anchor, pingHash, TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan, CancellationToken.None,
                (out TimeSpan recheck) =>
                {
                    recheck = Timeout.InfiniteTimeSpan;
                    return Volatile.Read(ref *ping) >= r;
                });
            Interlocked.Exchange(ref *pong, round); // the publish, with the full fence a writer's lock release gives
            WaitBuckets.WakeTouched(anchor, WaitBuckets.MaskOf(pongHash));
        }

        Say($"DONE {rounds}");
        return 0;
    }

    internal static int Wait(string[] args)
    {
        var anchor = Attach(args[1]);
        var hash = ulong.Parse(args[2], CultureInfo.InvariantCulture);
        Say($"READY {Environment.ProcessId}");
        WaitBuckets.WaitUntil(anchor, hash, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan, CancellationToken.None,
            (out TimeSpan recheck) =>
            {
                recheck = Timeout.InfiniteTimeSpan;
                return false;
            });
        return 0;
    }

    private static byte* Attach(string shmid)
    {
        var address = SysVTestNative.ShmAt(int.Parse(shmid, CultureInfo.InvariantCulture), readOnly: false, out var errno);
        if (address == IntPtr.Zero)
        {
            throw new InvalidOperationException($"shmat failed with errno {errno}");
        }

        return (byte*)address;
    }

    private static void Say(string line) => Console.Out.WriteLine(line + " .");
}
