using System;

namespace Memalloc.Core;

/// <summary>
/// The clock of record times and expiry (Unix milliseconds, UTC). The model-based tests replace it on their own
/// thread, so that expiry is a step of the test rather than a race with the wall clock; every other thread, and
/// production, reads the system clock. A write reads it once, under the lock, and also times its 250 ms removal check
/// with it: on a test's clock that check runs more or less often, which costs or saves one IPC_STAT, nothing else.
/// </summary>
internal static class StoreClock
{
    [ThreadStatic]
    private static Func<long>? threadClock;

    internal static long NowMs() => threadClock is { } clock ? clock() : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Makes <paramref name="clock"/> this thread's clock until the returned scope is disposed.</summary>
    internal static Scope Use(Func<long> clock)
    {
        var previous = threadClock;
        threadClock = clock;
        return new Scope(previous);
    }

    internal readonly struct Scope : IDisposable
    {
        private readonly Func<long>? _previous;

        internal Scope(Func<long>? previous)
        {
            _previous = previous;
        }

        public void Dispose() => threadClock = _previous;
    }
}
