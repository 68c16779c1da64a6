namespace Memalloc.Core;

/// <summary>One item taken from a queue: its bytes as they were sent, and the type name the sender gave (or null).</summary>
public sealed class QueueItem
{
    public required byte[] Data { get; init; }

    public string? TypeName { get; init; }

    /// <summary>The item does not carry a valid signature of the store's key (a Redis store): it was taken from the queue,
    /// and must never be deserialised.</summary>
    public bool Untrusted { get; init; }
}
