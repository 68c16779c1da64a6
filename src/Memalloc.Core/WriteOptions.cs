using System;

namespace Memalloc.Core;

/// <summary>Options of one write.</summary>
public readonly record struct WriteOptions
{
    /// <summary>Pass as <see cref="ExpectedVersion"/> to require that the stack does not exist yet.</summary>
    public const long MustNotExist = 0;

    public ValueEncoding Encoding { get; init; }
    public string? TypeName { get; init; }
    /// <summary>Absolute UTC expiry time; null for no expiry. A time that has passed when the write commits (the clock
    /// is read under the writer lock) is refused with InvalidArgument, never written already expired.</summary>
    public DateTime? Expires { get; init; }
    /// <summary>Time to live, counted from the write's own clock reading when it commits (not from the call: the write
    /// may wait for the writer lock), so it is never already past when it is stored. At least one millisecond, the
    /// store's time resolution; not together with <see cref="Expires"/>.</summary>
    public TimeSpan? TimeToLive { get; init; }
    /// <summary>Compare-and-set: null writes unconditionally; <see cref="MustNotExist"/> only creates;
    /// any other value writes only if the stack's current version equals it.</summary>
    public long? ExpectedVersion { get; init; }
}
