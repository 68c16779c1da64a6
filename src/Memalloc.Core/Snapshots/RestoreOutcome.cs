namespace Memalloc.Core.Snapshots;

/// <summary>How <see cref="MemStore.Restore"/> ended for one stack.</summary>
public enum RestoreOutcome
{
    /// <summary>Written, as a new version of the store.</summary>
    Written,
    /// <summary>Not written: the stack exists and the caller asked not to overwrite it.</summary>
    Exists,
    /// <summary>Not written: its expiry had passed when the write held the lock.</summary>
    Expired,
}
