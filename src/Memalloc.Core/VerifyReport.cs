using System.Collections.Generic;

namespace Memalloc.Core;

/// <summary>Result of walking a whole store and checking every invariant.</summary>
public sealed class VerifyReport
{
    public required string Store { get; init; }
    public bool IsValid => Problems.Count == 0;
    public required IReadOnlyList<string> Problems { get; init; }
    public long EntriesChecked { get; init; }
    public long RecordsChecked { get; init; }
}
