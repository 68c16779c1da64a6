using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using System.Threading;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>
/// Runs a script block while holding an exclusive named lock of the store, across every runspace and process of the
/// user. Re-entrant in one runspace; another runspace waits as another process does. A holder that dies loses the lock
/// to the next waiter (docs/coordination-design.md, "Named locks").
/// </summary>
[Cmdlet(VerbsOther.Use, "MemLock")]
[OutputType(typeof(object))]
public sealed class UseMemLockCommand : CoordinationCommandBase
{
    /// <summary>The holder id of each runspace: what makes a nested Use-MemLock re-entrant and other runspaces wait.</summary>
    private static readonly ConditionalWeakTable<Runspace, StrongBox<ulong>> s_holders = new();
    private static long s_lastHolder;

    /// <summary>The lock's name, taken literally; lock names are apart from stack and queue names.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(MemLockNameCompleter))]
    [AllowEmptyString]
    public string Name { get; set; } = string.Empty;

    /// <summary>Runs while the lock is held, with the lock's information as $_ and as its first argument.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public ScriptBlock ScriptBlock { get; set; } = null!;

    /// <summary>How long to wait for the lock (a bare number is seconds; 0 tries once); past it, MemLockTimeout.</summary>
    [Parameter]
    [SecondsTransformation]
    public TimeSpan? Timeout { get; set; }

    /// <summary>Not from the pipeline: nothing is piped to this cmdlet.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [ValidateNotNullOrEmpty]
    public override string Store { get; set; } = DefaultStore;

    protected override void BeginProcessing()
    {
        ValidateStackName(Name);
        ValidateStoreName(Store);
        ValidateTimeout(Timeout);
    }

    protected override void ProcessRecord()
    {
        var wait = WaitTime(Timeout);
        var holder = HolderOfThisRunspace();
        using var lease = StoreCache.Acquire(Store, create: true);
        HeldLock? held;
        try
        {
            held = Waiting(() => lease.Store!.AcquireLock(Name, holder, wait, StopToken));
        }
        catch (MemStoreException e)
        {
            // A store removed underneath is reported, not re-made: the block must not run under a lock nobody can see.
            ThrowTerminatingError(MemallocErrors.FromStoreException(e, Name));
            return;
        }

        if (held is null)
        {
            ThrowTerminatingError(MemallocErrors.LockTimeout(Name, Store, wait));
            return;
        }

        Collection<PSObject> output;
        try
        {
            var info = MemLockInfo.FromHeld(held);
            output = ScriptBlock.InvokeWithContext(null, new List<PSVariable> { new("_", info) }, info);
        }
        catch (RuntimeException e) when (e is not PipelineStoppedException)
        {
            // The user's own error, as their script block raised it; the lock is given back first (finally).
            Release(held);
            ThrowTerminatingError(new ErrorRecord(e.ErrorRecord, e));
            return;
        }
        finally
        {
            Release(held);
        }

        foreach (var item in output)
        {
            WriteObject(item);
        }

        if (held.LostReason is { } lost)
        {
            ThrowTerminatingError(MemallocErrors.LockLost(Name, lost));
        }
    }

    /// <summary>Gives the lock back; a store removed meanwhile has no lock left to give back.</summary>
    private static void Release(HeldLock held)
    {
        try
        {
            held.Dispose();
        }
        catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.StoreRemoved)
        {
        }
    }

    private static ulong HolderOfThisRunspace()
    {
        var runspace = Runspace.DefaultRunspace;
        return s_holders.GetValue(runspace, static _ => new StrongBox<ulong>((ulong)Interlocked.Increment(ref s_lastHolder))).Value;
    }
}
