using System;
using Memalloc.Core;

namespace Memalloc;

/// <summary>A held lock: what Get-MemLock emits, and the $_ of a Use-MemLock script block. Times are local.</summary>
public sealed class MemLockInfo
{
    internal MemLockInfo()
    {
    }

    /// <inheritdoc cref="LockInfo.Name"/>
    public required string Name { get; init; }

    /// <inheritdoc cref="LockInfo.Store"/>
    public required string Store { get; init; }

    /// <inheritdoc cref="LockInfo.OwnerPid"/>
    public int OwnerPid { get; init; }

    /// <summary>Since when it is held: <see cref="LockInfo.Since"/> as local time.</summary>
    public DateTime Since { get; init; }

    /// <summary>Runspaces waiting for the lock (counted up to 32 per store at once); null where not known (the $_ of
    /// Use-MemLock).</summary>
    public int? Waiters { get; init; }

    /// <inheritdoc cref="LockInfo.Token"/>
    public long Token { get; init; }

    internal static MemLockInfo FromCore(LockInfo info) => new()
    {
        Name = info.Name,
        Store = info.Store,
        OwnerPid = info.OwnerPid,
        Since = ToLocal(info.Since),
        Waiters = info.Waiters,
        Token = info.Token,
    };

    internal static MemLockInfo FromHeld(HeldLock held) => new()
    {
        Name = held.Name,
        Store = held.Store,
        OwnerPid = Environment.ProcessId,
        Since = ToLocal(held.Since),
        Token = held.Token,
    };

    private static DateTime ToLocal(DateTime utc) => DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToLocalTime();

    public override string ToString() => Name;
}
