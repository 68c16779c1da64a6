using System;
using System.Collections.Generic;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>Removes and emits up to -Count items from the head of a queue, oldest first; each item goes to exactly one
/// receiver. With -Wait, sleeps until an item comes (or -Timeout passes: then nothing, no error).</summary>
[Cmdlet(VerbsCommunications.Receive, "MemQueue")]
[OutputType(typeof(object))]
public sealed class ReceiveMemQueueCommand : CoordinationCommandBase
{
    /// <summary>The queue's name, taken literally.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    public string Name { get; set; } = string.Empty;

    /// <summary>The most items to take.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 1;

    /// <summary>Wait for an item when the queue is empty.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>How long -Wait waits at most (a bare number is seconds).</summary>
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
        if (Timeout is { } timeout && !Wait)
        {
            ThrowTerminatingError(MemallocErrors.TimeoutWithoutWait(timeout));
        }
    }

    protected override void ProcessRecord()
    {
        IReadOnlyList<QueueItem> items;
        try
        {
            if (Wait)
            {
                var wait = WaitTime(Timeout);
                var started = Environment.TickCount64;
                items = Waiting(() => OnStoreReopening(Store, store => store.Receive(Name, Count, Left(wait, started), StopToken)));
            }
            else if (!TryRead(Store, store => store.Receive(Name, Count), out items))
            {
                return; // no store: no queue, nothing to take
            }
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, Name);
            return;
        }

        foreach (var item in items)
        {
            // The items are taken: one that cannot be read back is an error of its own, and the others still come.
            if (item.Untrusted)
            {
                WriteError(MemallocErrors.UntrustedItem(Name, Store));
                continue;
            }

            try
            {
                WriteObject(CliXmlCodec.Deserialize(item.Data, ValueEncoding.CliXml), enumerateCollection: false);
            }
            catch (Exception e) when (e is not PipelineStoppedException and not OutOfMemoryException and not StackOverflowException)
            {
                WriteError(MemallocErrors.DeserializationFailed(Name, e));
            }
        }
    }
}
