using System;

namespace Memalloc.Core;

/// <summary>
/// A write's expiry as the caller asked for it (an absolute time, or a time to live), turned into Unix ms only under
/// the writer lock with the clock the write commits at. A clock read before waiting for the lock let a record that
/// expired during the wait count as live, and a short time to live be written already expired and acknowledged.
/// </summary>
internal readonly struct Expiry
{
    private readonly DateTime? _absolute;
    private readonly long _absoluteMs;
    private readonly long _timeToLiveMs;

    private Expiry(DateTime? absolute, long absoluteMs, long timeToLiveMs)
    {
        _absolute = absolute;
        _absoluteMs = absoluteMs;
        _timeToLiveMs = timeToLiveMs;
    }

    /// <summary>Checks what can be checked without the clock; throws InvalidArgument.</summary>
    internal static Expiry From(in WriteOptions options)
    {
        if (options.TimeToLive is { } timeToLive)
        {
            if (options.Expires is not null)
            {
                throw Invalid("Give a write either an expiry time or a time to live, not both.");
            }

            if (timeToLive <= TimeSpan.Zero)
            {
                throw Invalid($"A time to live must be positive; it was {timeToLive}.");
            }

            // Rounded up: a time to live shorter than a millisecond must not expire at the instant it is written.
            return new Expiry(null, 0, (long)Math.Ceiling(timeToLive.TotalMilliseconds));
        }

        if (options.Expires is { } expires)
        {
            var utc = expires.Kind == DateTimeKind.Local ? expires.ToUniversalTime() : DateTime.SpecifyKind(expires, DateTimeKind.Utc);
            return new Expiry(utc, new DateTimeOffset(utc).ToUnixTimeMilliseconds(), 0);
        }

        return default;
    }

    /// <summary>An absolute expiry in Unix ms (0 = never), as a snapshot keeps it.</summary>
    internal static Expiry AtUnixMs(long unixMs) =>
        unixMs == 0 ? default : new Expiry(DateTime.SpecifyKind(DateTime.UnixEpoch.AddMilliseconds(unixMs), DateTimeKind.Utc), unixMs, 0);

    /// <summary>An absolute expiry that has passed at <paramref name="nowMs"/> (a time to live never has).</summary>
    internal bool HasPassed(long nowMs) => _absolute is not null && _absoluteMs <= nowMs;

    /// <summary>The record's expires field (0 = never) for a write committing at <paramref name="nowMs"/>. An absolute
    /// time that has passed by then is refused rather than written already expired.</summary>
    internal long At(long nowMs)
    {
        if (_timeToLiveMs > 0)
        {
            return _timeToLiveMs <= Layout.MaxUnixMilliseconds - nowMs
                ? nowMs + _timeToLiveMs
                : throw Invalid($"A time to live of {TimeSpan.FromMilliseconds(_timeToLiveMs)} ends after the year 9999.");
        }

        if (_absolute is { } time && _absoluteMs <= nowMs)
        {
            throw Invalid($"The expiry time {time:o} is not in the future.");
        }

        return _absoluteMs;
    }

    private static MemStoreException Invalid(string message) => new(MemStoreErrorKind.InvalidArgument, message);
}
