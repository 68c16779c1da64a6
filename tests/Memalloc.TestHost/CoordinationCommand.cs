using System;
using System.Globalization;
using System.Text;
using System.Threading;
using Memalloc.Core;

namespace Memalloc.TestHost;

/// <summary>
/// <c>coord STORE COUNT [POINT HIT]</c>: COUNT rounds on an existing store; round i sends item i to queue 'q'
/// (SEND i, then SENT i once committed), every second round receives up to two items (RECV, GOT n for each, then
/// RECEIVED), every third takes and releases lock 'L' (LOCK, LOCKED token, UNLOCKED). Items carry 3000 bytes of padding so
/// that the store grows and compacts meanwhile. With POINT and HIT, the process kills itself at that hit of that crash
/// point (CRASH POINT HIT), so the test knows which operation was in flight.
/// </summary>
internal static class CoordinationCommand
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary><c>lock-wait STORE NAME MILLISECONDS</c>: waits that long for lock NAME (which the test holds), after one
    /// short wait that warms the code up; prints WAITED, the outcome, and the waiting thread's CPU time (µs) and
    /// voluntary context switches.</summary>
    internal static int LockWait(string[] args)
    {
        using var store = MemStore.OpenExisting(args[1]) ?? throw new InvalidOperationException("no store " + args[1]);
        store.AcquireLock(args[2], 1, TimeSpan.FromMilliseconds(120))?.Dispose();
        Program.Say("READY");
        var before = WaitWordCommand.ThreadUsage();
        using var held = store.AcquireLock(args[2], 1, TimeSpan.FromMilliseconds(int.Parse(args[3], s_inv)));
        var after = WaitWordCommand.ThreadUsage();
        Program.Say(string.Create(s_inv, $"WAITED {(held is null ? "timeout" : "acquired")} {after.CpuMicroseconds - before.CpuMicroseconds} {after.Voluntary - before.Voluntary}"));
        return 0;
    }

    internal static int Run(string[] args)
    {
        var count = int.Parse(args[2], s_inv);
        if (args.Length > 4)
        {
            Program.InstallCrashPoint(args[3], int.Parse(args[4], s_inv));
        }

        using var store = MemStore.OpenExisting(args[1]) ?? throw new InvalidOperationException("no store " + args[1]);
        var padding = new string('p', 3000);
        Program.Say("READY");
        for (var i = 1; i <= count; i++)
        {
            Program.Say($"SEND {i}");
            store.Send("q", Encoding.UTF8.GetBytes(i.ToString(s_inv) + " " + padding));
            Program.Say($"SENT {i}");
            if (i % 2 == 0)
            {
                Program.Say("RECV");
                foreach (var item in store.Receive("q", 2))
                {
                    var text = Encoding.UTF8.GetString(item.Data);
                    Program.Say($"GOT {text[..text.IndexOf(' ', StringComparison.Ordinal)]}");
                }

                Program.Say("RECEIVED");
            }

            if (i % 3 == 0)
            {
                Program.Say("LOCK");
                using (var held = store.AcquireLock("L", 1, TimeSpan.FromSeconds(30)) ?? throw new TimeoutException("lock L"))
                {
                    Program.Say($"LOCKED {held.Token}");
                }

                Program.Say("UNLOCKED");
            }
        }

        Program.Say("DONE");
        return 0;
    }
}
