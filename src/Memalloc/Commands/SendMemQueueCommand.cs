using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>Appends an item to a queue (created when missing): one item per call, and each piped object is an item of
/// its own, in order. Items round-trip through CliXml as stack values do.</summary>
[Cmdlet(VerbsCommunications.Send, "MemQueue")]
public sealed class SendMemQueueCommand : MemStackCommandBase
{
    /// <summary>The queue's name, taken literally (a name is a stack or a queue, never both).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    public string Name { get; set; } = string.Empty;

    /// <summary>The item; from the pipeline, each object is one item.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [AllowNull]
    [AllowEmptyString]
    [AllowEmptyCollection]
    public object? Value { get; set; }

    /// <summary>CliXml depth, as Export-Clixml's -Depth.</summary>
    [Parameter]
    [ValidateRange(1, CliXmlCodec.MaxDepth)]
    public int Depth { get; set; } = CliXmlCodec.DefaultDepth;

    /// <summary>Not from the pipeline: the piped objects are the items.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [ValidateNotNullOrEmpty]
    public override string Store { get; set; } = DefaultStore;

    protected override void BeginProcessing()
    {
        ValidateStackName(Name);
        ValidateStoreName(Store);
    }

    protected override void ProcessRecord()
    {
        if (TrySerialize(Name, Value, Depth) is not { } serialized)
        {
            return;
        }

        WarnAbout(serialized, Name, Depth);
        try
        {
            Write(Store, store => store.Send(Name, serialized.Data, serialized.TypeName));
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, Name);
        }
    }
}
