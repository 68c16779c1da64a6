using System;

namespace Memalloc.Core;

/// <summary>
/// The clock of record times and expiry (Unix milliseconds, UTC). The model-based tests replace it on their own
/// thread, so that expiry is a step of the test rather than a race with the wall clock; every other thread, and
/// production, reads the system clock. A write reads it once, under the lock, and also times its removal check with it
/// (docs/store-design.md, "The removal check"): on a test's clock that check runs more or less often, which costs or
/// saves one IPC_STAT, nothing else.
/// </summary>
internal static class StoreClock
{
    [ThreadStatic]
    private static Func<long>? s_threadClock;

    internal static long NowMs() => s_threadClock is { } clock ? clock() : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Makes <paramref name="clock"/> this thread's clock until the returned scope is disposed.</summary>
    internal static Scope Use(Func<long> clock)
    {
        var previous = s_threadClock;
        s_threadClock = clock;
        return new Scope(previous);
    }

    internal readonly struct Scope : IDisposable
    {
        private readonly Func<long>? _previous;

        internal Scope(Func<long>? previous)
        {
            _previous = previous;
        }

        public void Dispose() => s_threadClock = _previous;
    }
}
