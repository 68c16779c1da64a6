using System;
using System.Collections.Generic;
using System.Management.Automation;
using Memalloc.Core;
using Memalloc.Core.Backends;
using Memalloc.Registration;

namespace Memalloc.Commands;

/// <summary>What every Memalloc cmdlet shares: turning core failures into error records, name checks,
/// and the store access that reopens a store once when it was removed underneath this process.</summary>
public abstract class MemallocCmdlet : PSCmdlet
{
    /// <summary>Writes the core failure as an error record; invalid names stop the command.</summary>
    private protected void WriteStoreError(MemStoreException exception, object? target)
    {
        var record = MemallocErrors.FromStoreException(exception, target);
        if (MemallocErrors.IsTerminating(exception))
        {
            ThrowTerminatingError(record);
        }

        WriteError(record);
    }

    /// <summary>The current user's store names, sorted: the shared-memory stores and the registered Redis stores; none
    /// after a non-terminating error.</summary>
    private protected IReadOnlyList<string> ListStores()
    {
        try
        {
            return StoreNames.List();
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, null);
            return [];
        }
    }

    /// <summary>The names a wildcard pattern matches among <paramref name="names"/>, in their order.</summary>
    private protected static IEnumerable<string> Matching(string pattern, IEnumerable<string> names)
    {
        var wildcard = new WildcardPattern(pattern, WildcardOptions.None);
        foreach (var name in names)
        {
            if (wildcard.IsMatch(name))
            {
                yield return name;
            }
        }
    }

    /// <summary>A stack name the store would refuse is a terminating InvalidArgument error (id InvalidName).</summary>
    private protected void ValidateStackName(string name)
    {
        if (Refusal(() => MemStore.ValidateName(name)) is { } refusal)
        {
            ThrowTerminatingError(MemallocErrors.FromStoreException(refusal, name));
        }
    }

    /// <summary>A store name the store would refuse is a terminating InvalidArgument error (id InvalidStoreName).</summary>
    private protected void ValidateStoreName(string storeName)
    {
        if (Refusal(() => MemStore.ValidateStoreName(storeName)) is { } refusal)
        {
            ThrowTerminatingError(MemallocErrors.FromStoreException(refusal, storeName));
        }
    }

    /// <summary>A stack name from the pipeline: a bad one is a non-terminating InvalidName error for its record only.</summary>
    private protected bool CheckStackName(string name) => Check(Refusal(() => MemStore.ValidateName(name)), name);

    /// <summary>A store name from the pipeline: a bad one is a non-terminating InvalidStoreName error for its record only.</summary>
    private protected bool CheckStoreName(string storeName) => Check(Refusal(() => MemStore.ValidateStoreName(storeName)), storeName);

    private bool Check(MemStoreException? refusal, string target)
    {
        if (refusal is not null)
        {
            WriteError(MemallocErrors.FromStoreException(refusal, target));
        }

        return refusal is null;
    }

    private static MemStoreException? Refusal(Action validate)
    {
        try
        {
            validate();
            return null;
        }
        catch (MemStoreException e)
        {
            return e;
        }
    }

    /// <summary>
    /// Runs a read against an existing store. False when the store does not exist or was removed
    /// (to a reader a removed store holds no stacks); a store removed and made again is reopened once.
    /// </summary>
    private protected static bool TryRead<T>(string storeName, Func<IStackStore, T> read, out T result)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var lease = StoreCache.Acquire(storeName, create: false);
            if (lease.Store is not { } store)
            {
                result = default!;
                return false;
            }

            try
            {
                result = read(store);
                return true;
            }
            catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.StoreRemoved)
            {
                StoreCache.Forget(storeName, store);
                if (attempt > 0)
                {
                    result = default!;
                    return false;
                }
            }
        }
    }

    /// <summary>Runs a write against the store, creating it when missing; a store removed underneath is
    /// reopened (so made again) once, and the write replayed there: only for writes whose condition (if any) does
    /// not come from an earlier read (compare-and-set goes through <see cref="TryWriteIfUnchanged"/>). Each write is
    /// confirmed with the kernel afterwards (<see cref="IStackStore.EnsureNotRemoved"/>): a cmdlet must not report a write
    /// as done that went into removed segments (docs/store-design.md, "The removal check").</summary>
    private protected static T Write<T>(string storeName, Func<IStackStore, T> write)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var lease = StoreCache.Acquire(storeName, create: true);
            var store = lease.Store!;
            try
            {
                var result = write(store);
                store.EnsureNotRemoved();
                return result;
            }
            catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.StoreRemoved && attempt == 0)
            {
                StoreCache.Forget(storeName, store);
            }
        }
    }

    /// <summary>
    /// Runs a compare-and-set write (the version expected was read from this store) and confirms it with the kernel,
    /// as <see cref="Write{T}"/> does, but never replays it into a store made again after a removal: the version belongs
    /// to the removed store, and a new store's versions say nothing about it. A removal underneath is reported as a
    /// lost race (false): the caller reads again, from the new store or none, and recomputes.
    /// </summary>
    private protected static bool TryWriteIfUnchanged(string storeName, Func<IStackStore, bool> write)
    {
        using var lease = StoreCache.Acquire(storeName, create: true);
        var store = lease.Store!;
        try
        {
            var written = write(store);
            store.EnsureNotRemoved();
            return written;
        }
        catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.StoreRemoved)
        {
            StoreCache.Forget(storeName, store);
            return false;
        }
    }

    /// <summary>A stack as ShouldProcess names it.</summary>
    private protected static string Describe(string storeName, string name) => $"Stack '{name}' in store '{storeName}'";

    /// <summary>-WhatIf in effect, from the parameter or $WhatIfPreference.</summary>
    private protected bool IsWhatIf()
    {
        if (MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf))
        {
            return LanguagePrimitives.IsTrue(whatIf);
        }

        return LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("WhatIfPreference"));
    }
}
