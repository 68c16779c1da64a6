using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>Statistics of the current user's stores; all of them without -Name, and orphaned segments (an arena whose
/// store's anchor segment was removed by hand) as entries named 'orphaned:' and the anchor key. A missing literal store
/// name is a non-terminating MemStoreNotFound error; a pattern that matches nothing is silent.</summary>
[Cmdlet(VerbsCommon.Get, "MemStore")]
[OutputType(typeof(MemStoreInfo))]
public sealed class GetMemStoreCommand : MemallocCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [AllowEmptyString]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        if (Name is null)
        {
            foreach (var storeName in ListStores())
            {
                WriteStatistics(storeName, reportMissing: false);
            }

            foreach (var orphans in ListOrphans())
            {
                WriteObject(MemStoreInfo.FromOrphans(orphans));
            }

            return;
        }

        IReadOnlyList<string>? all = null;
        IReadOnlyList<OrphanedSegments>? orphaned = null;
        foreach (var name in Name)
        {
            if (WildcardPattern.ContainsWildcardCharacters(name))
            {
                all ??= ListStores();
                orphaned ??= ListOrphans();
                foreach (var storeName in Matching(name, all))
                {
                    WriteStatistics(storeName, reportMissing: false);
                }

                foreach (var orphans in orphaned)
                {
                    if (Matching(name, [MemStoreInfo.OrphanName(orphans.AnchorKey)]).Any())
                    {
                        WriteObject(MemStoreInfo.FromOrphans(orphans));
                    }
                }
            }
            else if (MemStoreInfo.TryParseOrphanName(name, out var anchorKey))
            {
                orphaned ??= ListOrphans();
                var found = false;
                foreach (var orphans in orphaned)
                {
                    if (orphans.AnchorKey == anchorKey)
                    {
                        WriteObject(MemStoreInfo.FromOrphans(orphans));
                        found = true;
                    }
                }

                if (!found)
                {
                    WriteError(MemallocErrors.StoreNotFound(name));
                }
            }
            else
            {
                ValidateStoreName(name);
                WriteStatistics(name, reportMissing: true);
            }
        }
    }

    private IReadOnlyList<OrphanedSegments> ListOrphans()
    {
        try
        {
            return MemStore.ListOrphanedSegments();
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, null);
            return [];
        }
    }

    private void WriteStatistics(string storeName, bool reportMissing)
    {
        try
        {
            if (TryRead(storeName, store => store.GetStatistics(), out var statistics))
            {
                WriteObject(MemStoreInfo.FromCore(statistics));
            }
            else if (reportMissing)
            {
                WriteError(MemallocErrors.StoreNotFound(storeName));
            }
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, storeName);
        }
    }
}
