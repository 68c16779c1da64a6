using System;
using System.Collections.Generic;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>
/// Writes a stack. Piped values are collected as Set-Variable does (one object stored as itself, several
/// as an array) and written once, at the end of the pipeline.
/// </summary>
[Cmdlet(VerbsCommon.Set, "MemStack", SupportsShouldProcess = true)]
[OutputType(typeof(MemStackInfo))]
public sealed class SetMemStackCommand : MemStackCommandBase
{
    private readonly List<object?> _collected = new();

    /// <summary>The stack's name, taken literally (wildcard characters are part of the name).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    public string Name { get; set; } = string.Empty;

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [AllowNull]
    [AllowEmptyString]
    [AllowEmptyCollection]
    public object? Value { get; set; }

    /// <summary>Not from the pipeline: the piped objects are the value, and a value with a Store property
    /// must not pick the store it is written to.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [ValidateNotNullOrEmpty]
    public override string Store { get; set; } = DefaultStore;

    /// <summary>CliXml depth, as Export-Clixml's -Depth.</summary>
    [Parameter]
    [ValidateRange(1, CliXmlCodec.MaxDepth)]
    public int Depth { get; set; } = CliXmlCodec.DefaultDepth;

    /// <summary>How long the stack lives after this write; a bare number is seconds.</summary>
    [Parameter]
    [SecondsTransformation]
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>Refuse to overwrite an existing stack (a ResourceExists error, id MemStackExists).</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        ValidateStackName(Name);
        ValidateStoreName(Store);
        ValidateTimeToLive(TimeToLive);
    }

    protected override void ProcessRecord() => _collected.Add(Value);

    protected override void EndProcessing()
    {
        var value = MyInvocation.ExpectingInput ? CliXmlCodec.FromCollected(_collected) : Value;
        using var serialized = TrySerialize(Name, value, Depth);
        if (serialized is null)
        {
            return;
        }

        if (!ShouldProcess(Describe(Store, Name), "Set"))
        {
            return;
        }

        WarnAbout(serialized, Name, Depth);
        var options = CliXmlWrite(serialized, TimeToLive, NoClobber ? WriteOptions.MustNotExist : null);

        try
        {
            var written = Write(Store, store => store.TrySet(Name, serialized.Data, options, out _));
            if (!written)
            {
                WriteError(MemallocErrors.StackExists(Name, Store));
                return;
            }

            if (PassThru && TryRead(Store, store => store.GetInfo(Name), out var info) && info is not null)
            {
                WriteObject(MemStackInfo.FromCore(info));
            }
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, Name);
        }
    }
}
