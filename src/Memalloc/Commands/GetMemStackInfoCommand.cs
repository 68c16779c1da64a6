using System;
using System.Collections.Generic;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>Metadata of stacks, sorted by store and name; every stack of the store without -Name. -Store takes
/// wildcards (-Store * lists every stack of the user), and a store object piped in lists that store's stacks.</summary>
[Cmdlet(VerbsCommon.Get, "MemStackInfo", DefaultParameterSetName = NameSet)]
[OutputType(typeof(MemStackInfo))]
public sealed class GetMemStackInfoCommand : StackSelectionCommandBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Names taken exactly as written: [ ] * ? are part of the name.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralNameSet)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    public string[] LiteralName { get; set; } = [];

    /// <summary>The store, or a pattern of stores: wildcards allowed here.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public override string Store { get; set; } = DefaultStore;

    private protected override string[]? NamesGiven => ParameterSetName == LiteralNameSet ? LiteralName : Name;

    private protected override bool RequiresNames => false;

    private protected override bool StoreIsPattern => WildcardPattern.ContainsWildcardCharacters(Store);

    protected override void ProcessRecord()
    {
        if (SelectRecord() is not { } selection)
        {
            return;
        }

        var found = new SortedDictionary<(string Store, string Name), StackInfo>(StoreThenName.Instance);
        foreach (var storeName in StoresOf(selection))
        {
            try
            {
                Collect(storeName, selection, found);
            }
            catch (MemStoreException e)
            {
                WriteStoreError(e, storeName);
            }
        }

        foreach (var info in found.Values)
        {
            WriteObject(MemStackInfo.FromCore(info));
        }
    }

    /// <summary>The stores a selection names: the matches of a -Store pattern, or the one store (missing or not).</summary>
    private IEnumerable<string> StoresOf(StackSelection selection)
    {
        if (!WildcardPattern.ContainsWildcardCharacters(selection.Store))
        {
            return [selection.Store];
        }

        return Matching(selection.Store, ListStores());
    }

    private void Collect(string storeName, StackSelection selection, SortedDictionary<(string, string), StackInfo> found)
    {
        if (selection.Names is null)
        {
            if (TryRead(storeName, store => store.List(), out var all))
            {
                foreach (var info in all)
                {
                    found[(storeName, info.Name)] = info;
                }
            }

            return;
        }

        // Across a pattern of stores, a name missing from some of them is no error.
        var missingIsError = !WildcardPattern.ContainsWildcardCharacters(selection.Store);
        ForEachStack(selection, storeName, (name, _) =>
        {
            if (TryRead(storeName, store => store.GetInfo(name), out var info) && info is not null)
            {
                found[(storeName, info.Name)] = info;
                return true;
            }

            return !missingIsError;
        }, storeErrorsPerName: false);
    }

    /// <summary>Stores, then stack names as the store sorts them (<see cref="StackNameOrder"/>).</summary>
    private sealed class StoreThenName : IComparer<(string Store, string Name)>
    {
        public static readonly StoreThenName Instance = new();

        public int Compare((string Store, string Name) x, (string Store, string Name) y)
        {
            var byStore = string.CompareOrdinal(x.Store, y.Store);
            return byStore != 0 ? byStore : StackNameOrder.Instance.Compare(x.Name, y.Name);
        }
    }
}
