using System;

namespace Memalloc.Core;

/// <summary>How a stored value's bytes are to be read.</summary>
public enum ValueEncoding : byte
{
    /// <summary>Opaque bytes from a .NET caller.</summary>
    Raw = 0,
    /// <summary>UTF-8 CliXml text written by the cmdlets (PSSerializer).</summary>
    CliXml = 1,
}

/// <summary>Metadata of one stack, as stored in its record.</summary>
public sealed class StackInfo
{
    public required string Name { get; init; }
    public required string Store { get; init; }
    /// <summary>Bytes of the stored value.</summary>
    public long Size { get; init; }
    /// <summary>Type name of the stored root object, or null when the writer gave none.</summary>
    public string? TypeName { get; init; }
    public ValueEncoding Encoding { get; init; }
    /// <summary>UTC time of the first write of this stack (kept across overwrites).</summary>
    public DateTime Created { get; init; }
    /// <summary>UTC time of the last write.</summary>
    public DateTime Modified { get; init; }
    /// <summary>UTC expiry time, or null when the stack never expires.</summary>
    public DateTime? Expires { get; init; }
    /// <summary>Store-wide write sequence number of the last write: increases on every write, never reused.</summary>
    public long Version { get; init; }
}

/// <summary>A stack's value together with its metadata, read in one consistent snapshot.</summary>
public sealed class StackEntry
{
    public required StackInfo Info { get; init; }
    public required byte[] Data { get; init; }
}

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
