using System;
using System.Collections.Generic;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>
/// The base of the stack cmdlets that take names from the pipeline (Get-MemStack, Remove-MemStack, Test-MemStack,
/// Get-MemStackInfo): which stacks, in which store, each pipeline record stands for.
/// <para>
/// A store object (MemStoreInfo) and a stack object (MemStackInfo) bind by value to -InputStore and -InputObject, in every
/// parameter set; PowerShell then also binds their Name property to -Name by property name, and that value is ignored
/// here: a store's name is never taken for a stack's (issue 10, defect 1), and a stack object's name is used literally,
/// never as a pattern. Objects that went through CliXml bind the same way (<see cref="DeserializedInfoConverter"/>).
/// </para>
/// <para>
/// Names and a store given on the command line are checked once, before the first record: a bad one stops the command.
/// Names and stores from the pipeline are checked per record: a bad one is an error for that record, and the pipeline
/// goes on (defect 7).
/// </para>
/// </summary>
public abstract class StackSelectionCommandBase : MemStackCommandBase
{
    private protected const string NameSet = "Name";
    private protected const string LiteralNameSet = "LiteralName";

    private bool _namesOnCommandLine;
    private bool _storeOnCommandLine;

    /// <summary>A store from Get-MemStore, from the pipeline: the stacks named by -Name or -LiteralName are looked up in it.</summary>
    [Parameter(ValueFromPipeline = true)]
    public MemStoreInfo? InputStore { get; set; }

    /// <summary>A stack from Get-MemStackInfo, from the pipeline: that stack, by its literal name, in its store.</summary>
    [Parameter(ValueFromPipeline = true)]
    public MemStackInfo? InputObject { get; set; }

    /// <summary>The -Name or -LiteralName values bound for this record.</summary>
    private protected abstract string[]? NamesGiven { get; }

    /// <summary>Whether the names given are patterns (-Name of the wildcard cmdlets) or literal.</summary>
    private protected virtual bool NamesArePatterns => ParameterSetName == NameSet;

    /// <summary>False for Get-MemStackInfo, which lists a whole store without names.</summary>
    private protected virtual bool RequiresNames => true;

    /// <summary>A -Store pattern (Get-MemStackInfo) is not a store name to check.</summary>
    private protected virtual bool StoreIsPattern => false;

    protected override void BeginProcessing()
    {
        var bound = MyInvocation.BoundParameters;
        _namesOnCommandLine = bound.ContainsKey("Name") || bound.ContainsKey("LiteralName");
        _storeOnCommandLine = bound.ContainsKey(nameof(Store));
        if (_storeOnCommandLine && !StoreIsPattern)
        {
            ValidateStoreName(Store);
        }

        if (_namesOnCommandLine)
        {
            foreach (var name in NamesGiven ?? [])
            {
                ValidateStackName(name);
            }
        }
    }

    /// <summary>What this pipeline record selects; null after a non-terminating error for the record.</summary>
    private protected StackSelection? SelectRecord()
    {
        if (InputObject is { } stack)
        {
            if (_namesOnCommandLine)
            {
                WriteError(MemallocErrors.PipelineStoreConflict(
                    $"Stack '{stack.Name}' of store '{stack.Store}' was piped to {MyInvocation.MyCommand.Name}, and -Name or -LiteralName was "
                    + "given too: the piped stack is the one to work on. Leave out -Name, or pipe store objects (Get-MemStore) instead."));
                return null;
            }

            return SameStoreOrConflict(stack.Store, "stack '" + stack.Name + "' of store") && CheckStoreName(stack.Store)
                ? new StackSelection(stack.Store, [stack.Name], Patterns: false)
                : null;
        }

        if (InputStore is { } store)
        {
            if (!SameStoreOrConflict(store.Name, "store"))
            {
                return null;
            }

            if (store.Orphaned)
            {
                // Orphaned segments hold no store anyone can read: there is nothing to select in them.
                return RequiresNames ? Refuse(store.Name) : new StackSelection(store.Name, [], Patterns: false);
            }

            return _namesOnCommandLine ? new StackSelection(store.Name, CheckedNames(), NamesArePatterns)
                : RequiresNames ? Refuse(store.Name)
                : new StackSelection(store.Name, null, Patterns: false);
        }

        if (!_storeOnCommandLine && !StoreIsPattern && !CheckStoreName(Store))
        {
            return null; // a Store property from the pipeline that is no store name
        }

        return new StackSelection(Store, CheckedNames(), NamesArePatterns);
    }

    private StackSelection? Refuse(string store)
    {
        WriteError(MemallocErrors.StackNameRequired(MyInvocation.MyCommand.Name, store));
        return null;
    }

    private bool SameStoreOrConflict(string pipedStore, string what)
    {
        if (!_storeOnCommandLine || string.Equals(Store, pipedStore, StringComparison.Ordinal))
        {
            return true;
        }

        WriteError(MemallocErrors.PipelineStoreConflict(
            $"The {what} '{pipedStore}' was piped to {MyInvocation.MyCommand.Name} with -Store '{Store}': give one store, not two."));
        return false;
    }

    /// <summary>The names of this record that are valid stack names (command-line names were checked already).</summary>
    private List<string>? CheckedNames()
    {
        if (NamesGiven is not { } names)
        {
            return null;
        }

        var valid = new List<string>(names.Length);
        foreach (var name in names)
        {
            if (_namesOnCommandLine || CheckStackName(name))
            {
                valid.Add(name);
            }
        }

        return valid;
    }

    /// <summary>
    /// The one loop over the stack names a pipeline record selects in <paramref name="storeName"/>: a pattern stands for
    /// the names it matches, in name order (one listing of the store per pattern; a pattern that matches nothing is
    /// silent), a literal name for itself. <paramref name="visit"/> gets each name and whether it came from a pattern,
    /// and returns false when that stack is missing: for a literal name, a non-terminating MemStackNotFound error. A
    /// failure of the store is an error for the name it happened on, unless <paramref name="storeErrorsPerName"/> is
    /// false: then it ends the loop and goes to the caller.
    /// </summary>
    private protected void ForEachStack(StackSelection selection, string storeName, Func<string, bool, bool> visit, bool storeErrorsPerName = true)
    {
        foreach (var name in selection.Names ?? [])
        {
            try
            {
                if (IsPattern(selection, name))
                {
                    var names = TryRead(storeName, store => store.ListNames(), out var listed) ? listed : [];
                    foreach (var match in Matching(name, names))
                    {
                        visit(match, true);
                    }
                }
                else if (!visit(name, false))
                {
                    WriteError(MemallocErrors.StackNotFound(name, storeName));
                }
            }
            catch (MemStoreException e) when (storeErrorsPerName)
            {
                WriteStoreError(e, name);
            }
        }
    }

    /// <summary>Whether a name of this selection is a pattern: a -Name with wildcard characters, or with escaped ones
    /// (lit`[1`]: the way to reach a stack whose literal name holds [ ] * ? through -Name).</summary>
    private protected static bool IsPattern(StackSelection selection, string name) =>
        selection.Patterns
        && (WildcardPattern.ContainsWildcardCharacters(name)
            || (name.Contains('`', StringComparison.Ordinal) && WildcardPattern.Unescape(name) != name));
}
