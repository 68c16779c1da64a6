using System;
using System.Management.Automation;
using Memalloc.Core;
using Memalloc.Core.Snapshots;

namespace Memalloc.Commands;

/// <summary>
/// Writes the stacks and queues of a snapshot file into a store: the whole file is verified first (a bad file is refused
/// before anything is written), then each stack, and each queue's head and items, go through the store's normal writes
/// (docs/snapshot-format.md, "Import").
/// </summary>
[Cmdlet(VerbsData.Import, "MemStore", SupportsShouldProcess = true, DefaultParameterSetName = PathSet)]
[OutputType(typeof(MemStackInfo))]
public sealed class ImportMemStoreCommand : SnapshotCommandBase
{
    /// <summary>The snapshot file to read.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>The snapshot file to read, exactly as written; binds to the PSPath of Get-ChildItem's output.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string LiteralPath { get; set; } = string.Empty;

    /// <summary>The store to write into; by default the one the snapshot was taken of.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>Keep existing stacks and queues (with a warning each) instead of overwriting them.</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Emit the info of each stack and queue written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        if (Name is not null)
        {
            ValidateStoreName(Name);
        }
    }

    protected override void ProcessRecord()
    {
        var literal = ParameterSetName == LiteralPathSet;
        if (ResolveFilePath(literal ? LiteralPath : Path, literal, mustExist: true) is not { } path)
        {
            return;
        }

        var progress = new SnapshotProgress(this, activityId: 14);
        var import = new Import(path);
        try
        {
            using var reader = SnapshotFileReader.Open(path);
            var checking = $"Checking '{path}'";
            reader.Progress = done =>
            {
                if (progress.Due(checking))
                {
                    progress.Show(checking, $"{done >> 20} of {reader.Length >> 20} MiB", done, reader.Length);
                }
            };
            var contents = reader.Verify();
            if (contents.SkippedRecords > 0)
            {
                WriteWarning($"'{path}' holds {contents.SkippedRecords} record{(contents.SkippedRecords == 1 ? string.Empty : "s")} of kind "
                    + $"{string.Join(", ", contents.SkippedKinds)}, written by a newer version of Memalloc; this version skipped them.");
            }

            import.Store = Name ?? reader.StoreName;
            ImportStacks(reader, import, progress);
        }
        catch (MemStoreException e) when (import.Written > 0 || import.Current is not null)
        {
            WriteError(MemallocErrors.ImportStopped(e, import.Path, import.Store!, import.Written - import.Queues, import.Queues, import.Current!, import.QueueItems));
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, path);
        }
        catch (Exception e) when (IsFileFailure(e))
        {
            WriteFileError(e, path, writing: false);
        }
        finally
        {
            import.Lease.Dispose();
            progress.Complete();
        }
    }

    private void ImportStacks(SnapshotFileReader reader, Import import, SnapshotProgress progress)
    {
        var store = import.Store!;
        var filter = NameFilter();
        var perName = AsksPerName();
        var activity = $"Importing '{import.Path}' into store '{store}'";
        reader.Progress = done =>
        {
            if (progress.Due(activity))
            {
                progress.Show(activity, $"{Contents(import.Written - import.Queues, import.Queues)} written", done, reader.Length);
            }
        };
        while (reader.ReadNext(out var kind))
        {
            var isQueue = kind == SnapshotRecordKind.Queue;
            var name = isQueue ? reader.Queue.NameText : reader.Stack.NameText;
            if ((filter is not null && !filter(name))
                || (perName && !ShouldProcess(isQueue ? DescribeQueue(store, name) : Describe(store, name), $"Import from '{import.Path}'")))
            {
                continue;
            }

            import.Current = name;
            if (import.Lease.Store is null)
            {
                import.Lease = StoreCache.Acquire(store, create: true); // not before the first write: -WhatIf creates no store
            }

            var outcome = isQueue ? ImportQueue(reader, import) : ImportStack(reader.Stack, import);
            import.Current = null;
            if (outcome == RestoreOutcome.Exists)
            {
                WriteWarning($"{(isQueue ? "Queue" : "Stack")} '{name}' exists in store '{store}': -NoClobber kept it, and the snapshot's "
                    + $"{(isQueue ? "items were" : "value was")} not written.");
            }
        }

        // One kernel check for the whole import: a store removed underneath it (ipcrm, RemoveIPC) took the stacks along.
        import.Lease.Store?.EnsureNotRemoved();
        WriteVerbose($"Imported {Contents(import.Written - import.Queues, import.Queues)} from '{import.Path}' into store '{store}'; "
            + $"{import.Expired} stacks had expired and were skipped.");
    }

    private RestoreOutcome ImportStack(in SnapshotStack stack, Import import)
    {
        var outcome = import.Lease.Store!.Restore(stack, NoClobber, out var version);
        if (outcome == RestoreOutcome.Written)
        {
            import.Written++;
            if (PassThru)
            {
                WriteObject(MemStackInfo.FromCore(stack.ToInfo(import.Store!, version)));
            }
        }
        else if (outcome == RestoreOutcome.Expired)
        {
            import.Expired++;
        }

        return outcome;
    }

    /// <summary>A queue's head, then its items one by one (each a send: memory stays one item). A failure half-way
    /// leaves the items written so far in the queue, and the error says how many.</summary>
    private RestoreOutcome ImportQueue(SnapshotFileReader reader, Import import)
    {
        var store = import.Lease.Store!;
        import.QueueItems = (0, reader.Queue.ItemCount);
        var outcome = store.RestoreQueue(reader.Queue, NoClobber, out var version);
        if (outcome != RestoreOutcome.Written)
        {
            import.QueueItems = null;
            return outcome;
        }

        while (reader.ReadQueueItem(out var item))
        {
            version = store.RestoreQueueItem(reader.Queue, item);
            import.QueueItems = import.QueueItems.Value with { Written = import.QueueItems.Value.Written + 1 };
        }

        import.QueueItems = null;
        import.Written++;
        import.Queues++;
        if (PassThru)
        {
            WriteObject(MemStackInfo.FromCore(reader.Queue.ToInfo(import.Store!, version)));
        }

        return outcome;
    }

    /// <summary>Where an import is: what the error of a failure half-way must say.</summary>
    private sealed class Import(string path)
    {
        public string Path { get; } = path;

        public string? Store { get; set; }

        public StoreLease Lease { get; set; }

        /// <summary>Stacks and queues written whole.</summary>
        public long Written { get; set; }

        /// <summary>Queues among <see cref="Written"/>.</summary>
        public long Queues { get; set; }

        public long Expired { get; set; }

        /// <summary>The stack or queue being written, while it is.</summary>
        public string? Current { get; set; }

        /// <summary>While <see cref="Current"/> is a queue: how many of its items were written so far, of how many.</summary>
        public (long Written, long Count)? QueueItems { get; set; }
    }
}
