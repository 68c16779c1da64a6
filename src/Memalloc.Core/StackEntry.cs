namespace Memalloc.Core;

/// <summary>A stack's value together with its metadata, read in one consistent snapshot.</summary>
public sealed class StackEntry
{
    public required StackInfo Info { get; init; }
    public required byte[] Data { get; init; }
}
