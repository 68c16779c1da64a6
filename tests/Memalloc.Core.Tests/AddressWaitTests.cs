using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Memalloc.Core.Native;
using Memalloc.TestHost;
using Xunit;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// The wait primitive under Wait-MemStack, Use-MemLock and Receive-MemQueue -Wait: a thread sleeps in the kernel on a
/// word of a System V segment until a process that mapped the same segment changes the word and wakes it. The waiter
/// is a separate process (tests/Memalloc.TestHost, <c>wait-word</c>) that reports its own thread's CPU time and context
/// switches, so that a waiter that spins or polls fails here.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed unsafe class AddressWaitTests : IDisposable
{
    /// <summary>Where the word sits in the test segment: inside the anchor range reserved for wait words.</summary>
    private const int WordOffset = 3072;

    private readonly TestSegment _segment = new();

    private int ShmId => _segment.ShmId;

    private int* Word => (int*)(_segment.Address + WordOffset);

    public void Dispose() => _segment.Dispose();

    [SysVFact]
    public void The_primitive_on_Linux_is_the_shared_futex()
    {
        Assert.Equal(WaitPrimitive.Futex, AddressWait.Primitive);
    }

    [SysVFact]
    public void A_wake_from_another_process_ends_a_wait_on_a_System_V_segment_word()
    {
        *Word = 41;
        using var waiter = StartWaiter(expected: 41, timeoutMs: 60_000);
        var (pid, tid) = ReadyOf(waiter, WaitPrimitive.Futex);
        WaitUntilAsleepInFutex(pid, tid, waiter);
        Assert.Equal(0, waiter.CountLines("WOKE")); // asleep, and not woken by anything but us

        Interlocked.Exchange(ref *Word, 42);
        AddressWait.WakeAll(Word);

        var woke = Woke(waiter);
        Assert.Equal(42, woke.Value);
        Assert.DoesNotContain(AddressWaitResult.TimedOut, woke.Outcomes);
        Assert.True(woke.Voluntary <= 2 * woke.Outcomes.Length + 2, $"the waiter switched out {woke.Voluntary} times for {woke.Outcomes.Length} waits: it polled");
    }

    [SysVFact]
    public void A_waiting_process_uses_no_CPU_and_sleeps_in_one_piece()
    {
        *Word = 7;
        using var waiter = StartWaiter(expected: 7, timeoutMs: 3000);
        ReadyOf(waiter, WaitPrimitive.Futex);

        var woke = Woke(waiter);
        Assert.Equal(7, woke.Value);
        Assert.Equal(AddressWaitResult.TimedOut, woke.Outcomes[^1]);
        // A spinning waiter would use ~3 s of CPU, one polling every 10 ms ~300 voluntary switches.
        Assert.True(woke.CpuMicroseconds < 30_000, $"the waiting thread used {woke.CpuMicroseconds} µs of CPU in 3 s");
        Assert.True(woke.Voluntary <= 2 * woke.Outcomes.Length + 2, $"the waiter switched out {woke.Voluntary} times for {woke.Outcomes.Length} waits: it polled");
    }

    [SysVFact]
    public void The_forced_fallback_sees_a_change_that_nobody_announces()
    {
        *Word = 1;
        using var waiter = TestHostProcess.StartCommand("env",
            [AddressWait.OverrideVariable + "=sleep", "dotnet", TestHostProcess.HostDll, "wait-word", Str(ShmId), Str(WordOffset), "1", "60000"]);
        var (pid, tid) = ReadyOf(waiter, WaitPrimitive.Sleep);
        WaitUntilSleeping(pid, tid, waiter); // else the change can come before the first wait, which then tests nothing

        Interlocked.Exchange(ref *Word, 2); // no WakeAll: the fallback has nothing to wake

        var woke = Woke(waiter);
        Assert.Equal(2, woke.Value);
        Assert.NotEmpty(woke.Outcomes);
        Assert.Equal(AddressWaitResult.Changed, woke.Outcomes[^1]);
    }

    [SysVFact]
    public void A_word_that_already_differs_returns_at_once_and_an_unchanged_one_times_out()
    {
        *Word = 5;
        Assert.Equal(AddressWaitResult.Changed, AddressWait.Wait(Word, 4, Timeout.InfiniteTimeSpan));
        Assert.Equal(AddressWaitResult.TimedOut, AddressWait.Wait(Word, 5, TimeSpan.Zero));
        Assert.Equal(AddressWaitResult.TimedOut, AddressWait.Wait(Word, 5, TimeSpan.FromMilliseconds(20)));
        AddressWait.WakeAll(Word); // nobody waits: harmless
    }

    [SysVFact]
    public void One_wake_ends_the_waits_of_every_thread_on_the_word()
    {
        *Word = 0;
        var started = new CountdownEvent(4);
        var waiters = Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(() =>
        {
            started.Signal();
            while (Volatile.Read(ref *Word) == 0)
            {
                AddressWait.Wait(Word, 0, TimeSpan.FromSeconds(30));
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)));

        Interlocked.Exchange(ref *Word, 1);
        AddressWait.WakeAll(Word);

        Assert.True(Task.WaitAll(waiters, TimeSpan.FromSeconds(20)), "a waiter was not woken");
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private TestHostProcess StartWaiter(int expected, int timeoutMs) =>
        TestHostProcess.Start("wait-word", Str(ShmId), Str(WordOffset), Str(expected), Str(timeoutMs));

    private static (int Pid, int Tid) ReadyOf(TestHostProcess waiter, WaitPrimitive primitive)
    {
        var f = Fields(waiter.WaitForReady());
        Assert.True(f[0] == "READY", waiter.Transcript());
        Assert.Equal(primitive.ToString(), f[3]);
        return (int.Parse(f[1], Inv), int.Parse(f[2], Inv));
    }

    /// <summary>Until /proc says the waiting thread is inside the futex system call (first field of
    /// /proc/PID/task/TID/syscall is the syscall number), so that the wake below really crosses into a sleeping process.</summary>
    private static void WaitUntilAsleepInFutex(int pid, int tid, TestHostProcess waiter)
    {
        var path = $"/proc/{pid}/task/{tid}/syscall";
        var futex = LinuxFutex.SyscallNumber.ToString(Inv);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var text = File.ReadAllText(path);
            if (text.Split(' ')[0] == futex)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the waiter never slept in futex: {path} says '{text.Trim()}'\n{waiter.Transcript()}");
            Thread.Sleep(10);
        }
    }

    /// <summary>Until /proc says the waiting thread sleeps (state S in /proc/PID/task/TID/stat): after READY it runs only
    /// its wait loop, so a sleeping thread is inside the fallback's sleep.</summary>
    private static void WaitUntilSleeping(int pid, int tid, TestHostProcess waiter)
    {
        var path = $"/proc/{pid}/task/{tid}/stat";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var text = File.ReadAllText(path);
            var state = text[(text.LastIndexOf(')') + 2)..].Split(' ')[0]; // the name in parentheses may hold spaces
            if (state == "S")
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the waiter never slept: {path} says '{text.Trim()}'\n{waiter.Transcript()}");
            Thread.Sleep(10);
        }
    }

    private static (int Value, AddressWaitResult[] Outcomes, long CpuMicroseconds, long Voluntary) Woke(TestHostProcess waiter)
    {
        var f = Fields(waiter.WaitForLine(l => l.StartsWith("WOKE", StringComparison.Ordinal), TimeSpan.FromSeconds(30)));
        var outcomes = f[2] == "-" ? [] : f[2].Split(',').Select(Enum.Parse<AddressWaitResult>).ToArray();
        return (int.Parse(f[1], Inv), outcomes, long.Parse(f[3], Inv), long.Parse(f[4], Inv));
    }
}
