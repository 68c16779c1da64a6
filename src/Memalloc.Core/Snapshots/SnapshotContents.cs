using System.Collections.Generic;

namespace Memalloc.Core.Snapshots;

/// <summary>What a verified snapshot holds.</summary>
public sealed class SnapshotContents
{
    public long Stacks { get; init; }

    /// <summary>Sum of the stacks' value lengths.</summary>
    public long ValueBytes { get; init; }

    public long Queues { get; init; }

    /// <summary>Items of all the queues.</summary>
    public long QueueItems { get; init; }

    /// <summary>Sum of the queue items' value lengths.</summary>
    public long QueueItemBytes { get; init; }

    /// <summary>Records of kinds this version does not know (written by a newer Memalloc): skipped, never imported.</summary>
    public long SkippedRecords { get; init; }

    /// <summary>The kinds of <see cref="SkippedRecords"/>, ascending.</summary>
    public IReadOnlyList<byte> SkippedKinds { get; init; } = [];
}
