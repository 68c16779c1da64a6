using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using Memalloc.Core;
using Memalloc.Core.Snapshots;

namespace Memalloc.Commands;

/// <summary>
/// Writes a store's live stacks and queues to a snapshot file (docs/snapshot-format.md): a consistent copy of their
/// records taken under the writer lock, then streamed into a temporary file that is renamed over the target. Held locks
/// are never exported.
/// </summary>
[Cmdlet(VerbsData.Export, "MemStore", SupportsShouldProcess = true, DefaultParameterSetName = PathSet)]
[OutputType(typeof(FileInfo))]
public sealed class ExportMemStoreCommand : SnapshotCommandBase
{
    /// <summary>The store to export.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = string.Empty;

    /// <summary>The snapshot file to write.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>The snapshot file to write, exactly as written.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string LiteralPath { get; set; } = string.Empty;

    /// <summary>Replace the file even when it is read-only.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Never replace an existing file.</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Emit the file written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!CheckStoreName(Name))
        {
            return;
        }

        var literal = ParameterSetName == LiteralPathSet;
        var given = literal ? LiteralPath : Path;
        if (ResolveFilePath(given, literal, mustExist: false) is not { } target)
        {
            return;
        }

        try
        {
            if (!TryRead(Name, store => store.TakeSnapshot(NameFilter()), out var snapshot))
            {
                WriteError(MemallocErrors.StoreNotFound(Name));
                return;
            }

            using (snapshot)
            {
                Export(snapshot, target);
            }
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, target);
        }
        catch (Exception e) when (IsFileFailure(e))
        {
            WriteFileError(e, target, writing: true);
        }
    }

    private void Export(StoreSnapshot snapshot, string target)
    {
        // The copy is taken; asking the user (per stack or queue, then for the file) holds no lock.
        // -WhatIf answers no to each, and then says what the file would hold: all it listed.
        var perEntry = AsksPerName();
        var whatIf = IsWhatIf();
        var chosen = new List<int>(snapshot.Count);
        var queues = 0;
        for (var i = 0; i < snapshot.Count; i++)
        {
            var isQueue = snapshot.IsQueue(i);
            var what = isQueue ? DescribeQueue(Name, snapshot.NameAt(i)) : Describe(Name, snapshot.NameAt(i));
            if (!perEntry || ShouldProcess(what, $"Export to '{target}'") || whatIf)
            {
                chosen.Add(i);
                queues += isQueue ? 1 : 0;
            }
        }

        var contents = Contents(chosen.Count - queues, queues);
        if (!ShouldProcess(target, $"Write a snapshot of {contents} of store '{Name}'"))
        {
            return;
        }

        var overwrite = NoClobber ? SnapshotOverwrite.Never : Force ? SnapshotOverwrite.ReplaceReadOnly : SnapshotOverwrite.Replace;
        var progress = new SnapshotProgress(this, activityId: 14);
        var activity = $"Exporting store '{Name}' to '{target}'";
        using (var writer = SnapshotFileWriter.Create(target, snapshot.StoreName, snapshot.TakenAt, overwrite))
        {
            for (var done = 0; done < chosen.Count; done++)
            {
                snapshot.WriteEntry(chosen[done], writer);
                if (progress.Due(activity))
                {
                    progress.Show(activity, $"{done + 1} of {chosen.Count} stacks and queues", done + 1, chosen.Count);
                }
            }

            writer.Commit();
            target = writer.TargetPath;
        }

        progress.Complete();
        WriteVerbose($"Exported {contents} of store '{Name}', as of {snapshot.TakenAt:o}, to '{target}'.");
        if (PassThru)
        {
            WriteObject(new FileInfo(target));
        }
    }
}
