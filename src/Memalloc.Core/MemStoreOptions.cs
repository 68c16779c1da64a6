namespace Memalloc.Core;

/// <summary>Options used only when a store is created; an existing store keeps the values it was created with.</summary>
public sealed class MemStoreOptions
{
    /// <summary>Arena size at creation, in bytes (rounded up to whole pages).</summary>
    public long InitialCapacity { get; init; } = 1L << 20;

    /// <summary>Largest arena the store may grow to; null picks a large fraction of what the kernel allows
    /// (environment variable MEMALLOC_MAX_CAPACITY overrides the default).</summary>
    public long? MaxCapacity { get; init; }

    /// <summary>Forces the arena backing of a new store (tests); null chooses as MEMALLOC_ARENA and the kernel's limits
    /// say (<see cref="ArenaBackingChoice.ForNewStore"/>).</summary>
    internal ArenaBacking? ArenaBacking { get; init; }
}
