using System.Collections.Generic;

namespace Memalloc.Core;

/// <summary>Arenas of the current user left without their store: System V segments or POSIX objects (current or spare)
/// whose headers name an anchor key at which no segment exists any more.</summary>
public sealed class OrphanedSegments
{
    /// <summary>The key of the anchor the segments belonged to (their headers name it).</summary>
    public int AnchorKey { get; init; }
    /// <summary>shmids of System V arenas.</summary>
    public required IReadOnlyList<int> SegmentIds { get; init; }
    /// <summary>Names of POSIX arena objects (Linux: files in /dev/shm).</summary>
    public IReadOnlyList<string> ObjectNames { get; init; } = [];
    /// <summary>Bytes the segments hold together.</summary>
    public long Bytes { get; init; }
    /// <summary>Stacks counted in the newest segment's header (its entries counter).</summary>
    public long Entries { get; init; }
    /// <summary>Highest arena generation among the segments.</summary>
    public long Generation { get; init; }
    public int OwnerUid { get; init; }
}
