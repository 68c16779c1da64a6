using System.Collections.Generic;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>Statistics of the current user's stores; all of them without -Name. A missing literal store
/// name is a non-terminating MemStoreNotFound error; a pattern that matches nothing is silent.</summary>
[Cmdlet(VerbsCommon.Get, "MemStore")]
[OutputType(typeof(MemStoreInfo))]
public sealed class GetMemStoreCommand : MemallocCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [AllowEmptyString]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        if (Name is null)
        {
            foreach (var storeName in ListStores())
            {
                WriteStatistics(storeName, reportMissing: false);
            }

            return;
        }

        IReadOnlyList<string>? all = null;
        foreach (var name in Name)
        {
            if (WildcardPattern.ContainsWildcardCharacters(name))
            {
                all ??= ListStores();
                var wildcard = new WildcardPattern(name, WildcardOptions.None);
                foreach (var storeName in all)
                {
                    if (wildcard.IsMatch(storeName))
                    {
                        WriteStatistics(storeName, reportMissing: false);
                    }
                }
            }
            else
            {
                ValidateStoreName(name);
                WriteStatistics(name, reportMissing: true);
            }
        }
    }

    private IReadOnlyList<string> ListStores()
    {
        try
        {
            return MemStore.ListStoreNames();
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
