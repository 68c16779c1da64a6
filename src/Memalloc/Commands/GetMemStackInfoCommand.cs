using System;
using System.Collections.Generic;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>Metadata of stacks, sorted by name; every stack of the store without -Name.</summary>
[Cmdlet(VerbsCommon.Get, "MemStackInfo")]
[OutputType(typeof(MemStackInfo))]
public sealed class GetMemStackInfoCommand : MemStackCommandBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        ValidateStore();
        var found = new SortedDictionary<string, StackInfo>(StringComparer.Ordinal);
        try
        {
            if (Name is null)
            {
                if (TryRead(Store, store => store.List(), out var all))
                {
                    foreach (var info in all)
                    {
                        found[info.Name] = info;
                    }
                }
            }
            else
            {
                Collect(found);
            }
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, Store);
        }

        foreach (var info in found.Values)
        {
            WriteObject(MemStackInfo.FromCore(info));
        }
    }

    private void Collect(SortedDictionary<string, StackInfo> found)
    {
        IReadOnlyList<StackInfo>? all = null;
        foreach (var name in Name!)
        {
            ValidateStackName(name);
            if (IsPattern(name))
            {
                // One listing serves every pattern of this record.
                all ??= TryRead(Store, store => store.List(), out var listed) ? listed : [];

                var wildcard = new WildcardPattern(name, WildcardOptions.None);
                foreach (var info in all)
                {
                    if (wildcard.IsMatch(info.Name))
                    {
                        found[info.Name] = info;
                    }
                }
            }
            else if (TryRead(Store, store => store.GetInfo(name), out var info) && info is not null)
            {
                found[info.Name] = info;
            }
            else
            {
                WriteError(MemallocErrors.StackNotFound(name, Store));
            }
        }
    }
}
