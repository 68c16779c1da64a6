using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Numerics;
using System.Threading;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>
/// Atomic read-modify-write by optimistic compare-and-set: read the value and its version, compute the new
/// value with no lock held (the script block may take as long as it likes), write it only if the version is
/// unchanged, else start again from the fresher value. No update is ever lost.
/// </summary>
[Cmdlet(VerbsData.Update, "MemStack", SupportsShouldProcess = true, DefaultParameterSetName = ScriptBlockSet)]
[OutputType(typeof(object))]
public sealed class UpdateMemStackCommand : MemStackCommandBase
{
    private const string ScriptBlockSet = "ScriptBlock";
    private const string IncrementSet = "Increment";

    // Past this many lost races the stack is too hot to update this way; an error beats spinning forever.
    private const int MaxAttempts = 10_000;

    /// <summary>The stack's name, taken literally.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    public string Name { get; set; } = string.Empty;

    /// <summary>Gets the current value as $_ and outputs the new one (one object as itself, several as an array).</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ScriptBlockSet)]
    public ScriptBlock ScriptBlock { get; set; } = null!;

    /// <summary>Adds this to the stored number; a missing stack counts as 0 (or -InitialValue).</summary>
    [Parameter(Mandatory = true, ParameterSetName = IncrementSet)]
    public long Increment { get; set; }

    /// <summary>The current value when the stack does not exist.</summary>
    [Parameter]
    [AllowNull]
    [AllowEmptyString]
    [AllowEmptyCollection]
    public object? InitialValue { get; set; }

    [Parameter]
    [ValidateRange(1, CliXmlCodec.MaxDepth)]
    public int Depth { get; set; } = CliXmlCodec.DefaultDepth;

    /// <summary>A new time to live from this write; without it an existing expiry is kept.</summary>
    [Parameter]
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>Emits the new value.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        ValidateStackName(Name);
        ValidateStore();
        if (TimeToLive is { } timeToLive)
        {
            ValidateTimeToLive(timeToLive);
        }
    }

    protected override void ProcessRecord()
    {
        // Asked once, before any user code runs: -WhatIf must not run the script block.
        if (!ShouldProcess(Describe(Name), "Update"))
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
    }

    private void Update()
    {
        var warned = false;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var entry = ReadEntry(Name);
            object? current = InitialValue;
            if (entry is not null && !TryDeserialize(entry, out current))
            {
                return;
            }

            if (!TryCompute(current, entry is not null, out var next))
            {
                return;
            }

            var serialized = TrySerialize(Name, next, Depth);
            if (serialized is null)
            {
                return;
            }

            if (!warned)
            {
                WarnAbout(serialized, Name, Depth);
                warned = true;
            }

            var options = new WriteOptions
            {
                Encoding = ValueEncoding.CliXml,
                TypeName = serialized.TypeName,
                // Counted from the commit; without -TimeToLive the stack keeps its expiry. If it expires before the
                // write commits, the version check fails and the update starts over with the stack missing.
                TimeToLive = TimeToLive,
                Expires = TimeToLive is null ? entry?.Info.Expires : null,
                ExpectedVersion = entry?.Info.Version ?? WriteOptions.MustNotExist,
            };

            if (TryWriteIfUnchanged(Store, store => store.TrySet(Name, serialized.Data, options, out _)))
            {
                if (PassThru)
                {
                    WriteObject(next, enumerateCollection: false);
                }

                return;
            }

            Backoff(attempt);
        }

        WriteError(MemallocErrors.UpdateConflict(Name, MaxAttempts));
    }

    // Another writer won the race: try again at once, then yield, then sleep a little (randomised so that
    // the losers do not collide again in step).
    private static void Backoff(int attempt)
    {
        if (attempt < 3)
        {
            return;
        }

        Thread.Sleep(attempt < 10 ? 0 : Random.Shared.Next(0, Math.Min(attempt / 10 + 1, 20)));
    }

    private bool TryCompute(object? current, bool exists, out object? next)
    {
        if (ParameterSetName == IncrementSet)
        {
            return TryAdd(exists || InitialValue is not null ? current : 0L, out next);
        }

        Collection<PSObject> output;
        try
        {
            output = ScriptBlock.InvokeWithContext(null, new List<PSVariable> { new("_", current) });
        }
        catch (RuntimeException e)
        {
            // The user's own error, as their script block raised it; the stack is left as it was.
            ThrowTerminatingError(new ErrorRecord(e.ErrorRecord, e));
            throw;
        }

        var items = new List<object?>(output.Count);
        foreach (var item in output)
        {
            items.Add(item);
        }

        next = CliXmlCodec.FromCollected(items);
        return true;
    }

    private static object Narrow(long sum) => sum is >= int.MinValue and <= int.MaxValue ? (object)(int)sum : sum;

    private bool TryAdd(object? current, out object? next)
    {
        var number = current is PSObject psObject ? psObject.BaseObject : current;
        try
        {
            next = number switch
            {
                // An int stays an int while it fits, as PowerShell's own arithmetic does.
                int value => Narrow(checked(value + Increment)),
                long value => (object)checked(value + Increment),
                byte or sbyte or short or ushort or uint => checked(Convert.ToInt64(number, null) + Increment),
                ulong value => Increment >= 0 ? checked(value + (ulong)Increment) : checked(value - (ulong)checked(-Increment)),
                double value => value + Increment,
                float value => value + Increment,
                decimal value => value + Increment,
                BigInteger value => value + Increment,
                _ => null,
            };
        }
        catch (OverflowException e)
        {
            WriteError(MemallocErrors.IncrementOverflow(Name, e));
            next = null;
            return false;
        }

        if (next is null)
        {
            WriteError(MemallocErrors.NotANumber(Name, current));
            return false;
        }

        return true;
    }
}
