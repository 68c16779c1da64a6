using System;

namespace Memalloc.Core;

/// <summary>Metadata of one stack, as stored in its record.</summary>
public sealed class StackInfo
{
    /// <summary>The stack's name (case-sensitive).</summary>
    public required string Name { get; init; }

    /// <summary>The store holding the stack.</summary>
    public required string Store { get; init; }

    /// <summary>Bytes of the stored value.</summary>
    public long Size { get; init; }

    /// <summary>Type name of the stored root object, or null when the writer gave none.</summary>
    public string? TypeName { get; init; }

    /// <summary>How the value's bytes are to be read: CliXml (what the cmdlets write) or Raw. Raw for a queue, whose items
    /// are returned as they were sent.</summary>
    public ValueEncoding Encoding { get; init; }

    /// <summary>UTC time of the first write of this stack (kept across overwrites).</summary>
    public DateTime Created { get; init; }

    /// <summary>UTC time of the last write.</summary>
    public DateTime Modified { get; init; }

    /// <summary>UTC expiry time, or null when the stack never expires.</summary>
    public DateTime? Expires { get; init; }

    /// <summary>Store-wide write sequence number of the last write: increases on every write, never reused. A queue's
    /// changes with every send and receive.</summary>
    public long Version { get; init; }

    /// <summary>A stack (one value) or a queue (items sent and received one by one).</summary>
    public StackKind Kind { get; init; }

    /// <summary>Values held: 1 for a stack, the items waiting for a queue (whose <see cref="Size"/> is then their bytes).</summary>
    public long Count { get; init; }
}
