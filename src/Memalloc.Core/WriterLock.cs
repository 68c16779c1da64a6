using System;
using System.Collections.Concurrent;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// The cross-process writer lock: the anchor's lock word holds <c>startTimeToken &lt;&lt; 32 | pid</c> of its owner and
/// is taken with one compare-exchange (no system call when free). A waiter checks, every few milliseconds, whether
/// the owner is dead (kill(pid, 0) = ESRCH, a zombie, or a different start time: the pid was reused) and then takes
/// the word over by CAS; the caller then sees a non-idle writer state and recovers.
/// The word names processes, not threads: callers hold <see cref="ProcessLockFor"/> first.
/// </summary>
internal static unsafe class WriterLock
{
    private static readonly ConcurrentDictionary<int, object> s_processLocks = new();

    /// <summary>This process's lock word, computed once (the pid and start time do not change).</summary>
    internal static ulong OwnWord { get; } = ((ulong)StartTimeToken(Environment.ProcessId) << 32) | (uint)Environment.ProcessId;

    /// <summary>The in-process lock in front of the lock word, one per anchor key, shared by every instance.</summary>
    internal static object ProcessLockFor(int anchorKey) => s_processLocks.GetOrAdd(anchorKey, static _ => new object());

    /// <summary>Takes the lock word. Caller holds the process lock for this store.</summary>
    internal static void Acquire(byte* anchor)
    {
        ref var word = ref *(ulong*)(anchor + Layout.LockWordOffset);
        if (Interlocked.CompareExchange(ref word, OwnWord, 0) == 0)
        {
            return;
        }

        AcquireContended(ref word);
    }

    private static void AcquireContended(ref ulong word)
    {
        CrashPoints.Hit?.Invoke("lock.wait");
        var spinner = default(SpinWait);
        var lastCheck = Environment.TickCount64;
        while (true)
        {
            var seen = Volatile.Read(ref word);
            if (seen == 0)
            {
                if (Interlocked.CompareExchange(ref word, OwnWord, 0) == 0)
                {
                    return;
                }

                continue;
            }

            // Our own word while we hold the process lock: an earlier operation of this process did not release
            // (it cannot be another thread of ours). Take it over; the writer state tells whether to recover.
            if (seen == OwnWord)
            {
                return;
            }

            var now = Environment.TickCount64;
            if (now - lastCheck >= 2)
            {
                lastCheck = now;
                if (IsOwnerDead(seen) && Interlocked.CompareExchange(ref word, OwnWord, seen) == seen)
                {
                    return;
                }
            }

            if (spinner.Count < 30)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
            else
            {
                Thread.Sleep(1);
            }
        }
    }

    internal static void Release(byte* anchor)
    {
        // Plain CAS so that a word taken over from us (we were wrongly judged dead, which cannot happen while we
        // run, but costs nothing to guard) is not cleared.
        Interlocked.CompareExchange(ref *(ulong*)(anchor + Layout.LockWordOffset), 0, OwnWord);
    }

    internal static int OwnerPid(ulong word) => (int)(uint)word;

    /// <summary>True when the process named by a lock word is certainly gone: dead, a zombie, or its pid now names a process
    /// that started at another time (the token; 0 when the word's taker could not read it).</summary>
    internal static bool IsOwnerDead(ulong word)
    {
        var pid = OwnerPid(word);
        if (ProcessIdentity.IsDead(pid))
        {
            return true;
        }

        var token = (uint)(word >> 32);
        if (token == 0)
        {
            return false;
        }

        var current = StartTimeToken(pid);
        return current != 0 && current != token;
    }

    /// <summary>Low 32 bits of the process start time, forced non-zero; 0 when unknown (the process vanished).
    /// Distinguishes a reused pid from its first owner (<see cref="ProcessIdentity.StartTimeToken"/>).</summary>
    internal static uint StartTimeToken(int pid) => ProcessIdentity.StartTimeToken(pid);
}
