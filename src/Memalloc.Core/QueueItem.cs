namespace Memalloc.Core;

/// <summary>One item taken from a queue: its bytes as they were sent, and the type name the sender gave (or null).</summary>
public sealed class QueueItem
{
    public required byte[] Data { get; init; }

    public string? TypeName { get; init; }
}
