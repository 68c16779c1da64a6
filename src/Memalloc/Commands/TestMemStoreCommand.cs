using System.Collections.Generic;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>
/// Runs a store's integrity walk (anchor, arena header, index, every record and its checksum, the counters) and emits
/// $true or $false per store, or with -Detailed each problem found. It runs as a writer: it waits for the writer lock and
/// first recovers from a writer that died, so a store checked after a crash is judged after the repair any writer would
/// make. All of the user's stores without -Name.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "MemStore")]
[OutputType(typeof(bool))]
[OutputType(typeof(MemStoreProblem))]
public sealed class TestMemStoreCommand : MemallocCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [AllowEmptyString]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Emits each problem found as a Memalloc.MemStoreProblem (nothing for a sound store) instead of $true/$false.</summary>
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    protected override void ProcessRecord()
    {
        if (Name is null)
        {
            foreach (var storeName in ListStores())
            {
                Test(storeName, reportMissing: false);
            }

            return;
        }

        IReadOnlyList<string>? all = null;
        foreach (var name in Name)
        {
            if (WildcardPattern.ContainsWildcardCharacters(name))
            {
                all ??= ListStores();
                foreach (var storeName in Matching(name, all))
                {
                    Test(storeName, reportMissing: false);
                }
            }
            else if (CheckStoreName(name))
            {
                Test(name, reportMissing: true);
            }
        }
    }

    private void Test(string storeName, bool reportMissing)
    {
        try
        {
            if (!TryRead(storeName, store => store.Verify(), out var report))
            {
                if (reportMissing)
                {
                    WriteError(MemallocErrors.StoreNotFound(storeName));
                }

                return;
            }

            WriteVerbose($"Store '{storeName}': {report.EntriesChecked} index entries and {report.RecordsChecked} records checked, "
                + $"{report.Problems.Count} problem(s).");
            if (!Detailed)
            {
                WriteObject(report.IsValid);
                return;
            }

            foreach (var problem in report.Problems)
            {
                WriteObject(new MemStoreProblem { Store = storeName, Problem = problem });
            }
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, storeName);
        }
    }
}
