namespace Memalloc;

/// <summary>One problem Test-MemStore -Detailed found in a store's integrity walk.</summary>
public sealed class MemStoreProblem
{
    public required string Store { get; init; }

    /// <summary>What is wrong, and where (anchor, arena header, index slot or record offset).</summary>
    public required string Problem { get; init; }

    public override string ToString() => Problem;
}
