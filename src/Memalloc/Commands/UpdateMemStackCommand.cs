using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>
/// Atomic read-modify-write by optimistic compare-and-set: read the value and its version, compute the new value with
/// no store lock held (the script block may take as long as it likes), write it only if the version is unchanged, else
/// start again from the fresher value. No update is ever lost. An updater that lost the race three times queues for the
/// stack's update turn, which updaters of that stack (in any process) take one after the other, so that a slow update is
/// not starved by fast ones; readers and plain writers never wait for it (docs/store-design.md, "Update turns").
/// </summary>
[Cmdlet(VerbsData.Update, "MemStack", SupportsShouldProcess = true, DefaultParameterSetName = ScriptBlockSet)]
[OutputType(typeof(object))]
public sealed class UpdateMemStackCommand : MemStackCommandBase, IDisposable
{
    /// <summary>Races an updater may lose before it queues for the stack's update turn (documented in the help).</summary>
    internal const int RacesBeforeTurn = 3;

    private const string ScriptBlockSet = "ScriptBlock";
    private const string IncrementSet = "Increment";

    // Past this many attempts (races lost to plain writers, which never wait for turns) an error beats spinning on.
    private const int MaxAttempts = 10_000;

    private readonly CancellationTokenSource _stopping = new();

    /// <summary>The stack's name, taken literally.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    public string Name { get; set; } = string.Empty;

    /// <summary>Gets the current value as $_ and as its first argument, and outputs the new one (one object as itself,
    /// several as an array; nothing keeps $_, changed in place or not).</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ScriptBlockSet)]
    public ScriptBlock ScriptBlock { get; set; } = null!;

    /// <summary>Adds this number to the stored one, as PowerShell's '+' does; a missing stack counts as 0 (or -InitialValue).</summary>
    [Parameter(Mandatory = true, ParameterSetName = IncrementSet)]
    [NumberTransformation]
    [ValidateNumber]
    public object Increment { get; set; } = 0;

    /// <summary>The current value when the stack does not exist.</summary>
    [Parameter]
    [AllowNull]
    [AllowEmptyString]
    [AllowEmptyCollection]
    public object? InitialValue { get; set; }

    [Parameter]
    [ValidateRange(1, CliXmlCodec.MaxDepth)]
    public int Depth { get; set; } = CliXmlCodec.DefaultDepth;

    /// <summary>A new time to live from this write (a bare number is seconds); without it an existing expiry is kept.</summary>
    [Parameter]
    [SecondsTransformation]
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>How long to keep trying (a bare number is seconds) before giving up with UpdateConflict.</summary>
    [Parameter]
    [SecondsTransformation]
    public TimeSpan? Timeout { get; set; }

    /// <summary>Emits the new value.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        ValidateStackName(Name);
        ValidateStoreName(Store);
        ValidateTimeToLive(TimeToLive);
        if (Timeout < TimeSpan.Zero)
        {
            ThrowTerminatingError(MemallocErrors.InvalidTimeout(Timeout.Value));
        }
    }

    protected override void ProcessRecord()
    {
        // Asked once, before any user code runs: -WhatIf must not run the script block.
        if (!ShouldProcess(Describe(Store, Name), "Update"))
        {
            return;
        }

        try
        {
            Update();
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, Name);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    protected override void StopProcessing() => _stopping.Cancel();

    public void Dispose() => _stopping.Dispose();

    private void Update()
    {
        var deadline = Timeout is { } timeout ? Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var racesLost = 0;
        var warned = false;
        IDisposable? turn = null;
        var hasTurns = HasUpdateTurns();
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                if (turn is null && hasTurns && (racesLost >= RacesBeforeTurn || IsTurnBusy()))
                {
                    turn = TakeTurn(deadline);
                    if (turn is null)
                    {
                        WriteError(MemallocErrors.UpdateConflict(Name, racesLost, $"after waiting {Timeout} (-Timeout) for its turn"));
                        return;
                    }
                }

                using var entry = ReadEntry(Store, Name); // its value's pooled array goes back at the end of the attempt
                object? current = InitialValue;
                if ((entry is not null && !TryDeserialize(entry, out current)) || !TryCompute(current, entry is not null, out var next, out var write))
                {
                    return;
                }

                if (!write)
                {
                    return; // nothing to keep: the stack was missing and the block output nothing
                }

                using var serialized = TrySerialize(Name, next, Depth);
                if (serialized is null)
                {
                    return;
                }

                if (!warned)
                {
                    WarnAbout(serialized, Name, Depth);
                    warned = true;
                }

                // Without -TimeToLive the stack keeps its expiry.
                var options = CliXmlWrite(serialized, TimeToLive, entry?.Info.Version ?? WriteOptions.MustNotExist, entry?.Info.Expires);

                // Never replayed into a store made again after a removal: a lost race, read again (issue 9).
                if (TryWriteIfUnchanged(Store, store => store.TrySet(Name, serialized.Data, options, out _)))
                {
                    if (PassThru)
                    {
                        WriteObject(next, enumerateCollection: false);
                    }

                    return;
                }

                racesLost++;
                if (Stopwatch.GetTimestamp() >= deadline || attempt >= MaxAttempts)
                {
                    var reason = attempt >= MaxAttempts ? $"after {MaxAttempts} attempts" : $"after {Timeout} (-Timeout)";
                    WriteError(MemallocErrors.UpdateConflict(Name, racesLost, reason));
                    return;
                }

                if (turn is null)
                {
                    Backoff(attempt, hasTurns);
                }
            }
        }
        finally
        {
            turn?.Dispose();
        }
    }

    /// <summary>Whether the store queues updaters (shared memory) or leaves them to retry (Redis: docs/redis-design.md).</summary>
    private bool HasUpdateTurns()
    {
        using var lease = StoreCache.Acquire(Store, create: true);
        return lease.Store!.HasUpdateTurns;
    }

    /// <summary>Another updater of this stack holds its turn or queues for it: then this one queues too.</summary>
    private bool IsTurnBusy()
    {
        try
        {
            using var lease = StoreCache.Acquire(Store, create: false);
            return lease.Store?.IsUpdateTurnBusy(Name) == true;
        }
        catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.StoreRemoved)
        {
            return false; // the write that follows finds out and reads again
        }
    }

    private IDisposable? TakeTurn(long deadline)
    {
        var wait = deadline == long.MaxValue
            ? System.Threading.Timeout.InfiniteTimeSpan
            : TimeSpan.FromSeconds(Math.Max(0, deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
        // The turn keeps the anchor page mapped on its own: the lease only has to last while it is waited for.
        using var lease = StoreCache.Acquire(Store, create: true);
        return lease.Store!.TakeUpdateTurn(Name, wait, _stopping.Token);
    }

    // Another writer won the race: try again at once, then yield (randomised so that the losers do not collide again
    // in step). After RacesBeforeTurn losses the updater queues for its turn instead; a store without turns (Redis), where
    // an attempt is two round trips, backs off exponentially with jitter up to 16 ms, so that losers stop spinning.
    private static void Backoff(int attempt, bool hasTurns)
    {
        if (attempt < 2)
        {
            return;
        }

        if (!hasTurns)
        {
            Thread.Sleep(Random.Shared.Next(0, 1 << Math.Min(attempt - 1, 4)));
            return;
        }

        Thread.Sleep(attempt < 10 ? 0 : Random.Shared.Next(0, Math.Min(attempt / 10 + 1, 20)));
    }

    /// <summary>The new value, and whether there is one to write: a script block that outputs nothing keeps $_ (what it
    /// changed in place included), which for a missing stack without -InitialValue means nothing to write.</summary>
    private bool TryCompute(object? current, bool exists, out object? next, out bool write)
    {
        var hasInitialValue = MyInvocation.BoundParameters.ContainsKey(nameof(InitialValue));
        write = true;
        if (ParameterSetName == IncrementSet)
        {
            return TryAdd(exists || hasInitialValue ? current : 0, out next);
        }

        Collection<PSObject> output;
        try
        {
            output = ScriptBlock.InvokeWithContext(null, new List<PSVariable> { new("_", current) }, current);
        }
        catch (RuntimeException e)
        {
            // The user's own error, as their script block raised it; the stack is left as it was.
            ThrowTerminatingError(new ErrorRecord(e.ErrorRecord, e));
            throw;
        }

        if (output.Count == 0)
        {
            next = current;
            write = exists || hasInitialValue;
            return true;
        }

        var items = new List<object?>(output.Count);
        foreach (var item in output)
        {
            items.Add(item);
        }

        next = CliXmlCodec.FromCollected(items);
        return true;
    }

    private bool TryAdd(object? current, out object? next)
    {
        next = null;
        if (!PowerShellArithmetic.IsNumber(current))
        {
            WriteError(MemallocErrors.NotANumber(Name, current));
            return false;
        }

        try
        {
            next = PowerShellArithmetic.Add(current!, Increment);
            return true;
        }
        catch (RuntimeException e)
        {
            // The only overflow PowerShell's '+' does not widen away (decimal).
            WriteError(MemallocErrors.IncrementOverflow(Name, e));
            return false;
        }
    }
}
