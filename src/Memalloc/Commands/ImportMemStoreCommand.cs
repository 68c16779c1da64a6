using System;
using System.Management.Automation;
using Memalloc.Core;
using Memalloc.Core.Snapshots;

namespace Memalloc.Commands;

/// <summary>
/// Writes the stacks of a snapshot file into a store: the whole file is verified first (a bad file is refused before
/// anything is written), then each stack goes through the store's normal write (docs/snapshot-format.md, "Import").
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

    /// <summary>Keep existing stacks (with a warning each) instead of overwriting them.</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Emit the info of each stack written.</summary>
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
            WriteError(MemallocErrors.ImportStopped(e, import.Path, import.Store!, import.Written, import.Current!));
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
        var perStack = AsksPerStack();
        var activity = $"Importing '{import.Path}' into store '{store}'";
        reader.Progress = done =>
        {
            if (progress.Due(activity))
            {
                progress.Show(activity, $"{import.Written} stacks written", done, reader.Length);
            }
        };
        while (reader.ReadStack(out var stack))
        {
            var name = stack.NameText;
            if ((filter is not null && !filter(name)) || (perStack && !ShouldProcess(Describe(store, name), $"Import from '{import.Path}'")))
            {
                continue;
            }

            import.Current = name;
            if (import.Lease.Store is null)
            {
                import.Lease = StoreCache.Acquire(store, create: true); // not before the first write: -WhatIf creates no store
            }

            var outcome = import.Lease.Store!.Restore(stack, NoClobber, out var version);
            import.Current = null;
            switch (outcome)
            {
                case RestoreOutcome.Written:
                    import.Written++;
                    if (PassThru)
                    {
                        WriteObject(MemStackInfo.FromCore(stack.ToInfo(store, version)));
                    }

                    break;
                case RestoreOutcome.Exists:
                    WriteWarning($"Stack '{name}' exists in store '{store}': -NoClobber kept it, and the snapshot's value was not written.");
                    break;
                default:
                    import.Expired++;
                    break;
            }
        }

        // One kernel check for the whole import: a store removed underneath it (ipcrm, RemoveIPC) took the stacks along.
        import.Lease.Store?.EnsureNotRemoved();
        WriteVerbose($"Imported {import.Written} stacks from '{import.Path}' into store '{store}'; {import.Expired} had expired and were skipped.");
    }

    /// <summary>Where an import is: what the error of a failure half-way must say.</summary>
    private sealed class Import(string path)
    {
        public string Path { get; } = path;

        public string? Store { get; set; }

        public StoreLease Lease { get; set; }

        public long Written { get; set; }

        public long Expired { get; set; }

        /// <summary>The stack being written, while it is.</summary>
        public string? Current { get; set; }
    }
}
