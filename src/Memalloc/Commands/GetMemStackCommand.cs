using System;
using System.Collections.Specialized;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>
/// Returns stored values. A -Name with wildcard characters is a pattern (matches in name order, silent when none
/// match); -LiteralName is never one. A missing literal name is a non-terminating MemStackNotFound error, as
/// Get-Variable does, unless -Default gives the value to return instead. -AsHashtable returns one dictionary of
/// name to value, for wildcard reads whose bare values would lose their names.
/// </summary>
[Cmdlet(VerbsCommon.Get, "MemStack", DefaultParameterSetName = NameSet)]
[OutputType(typeof(object))]
[OutputType(typeof(OrderedDictionary))]
public sealed class GetMemStackCommand : StackSelectionCommandBase
{
    private OrderedDictionary? _table;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    [SupportsWildcards]
    public string[] Name { get; set; } = [];

    /// <summary>Names taken exactly as written: [ ] * ? are part of the name.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralNameSet)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    public string[] LiteralName { get; set; } = [];

    /// <summary>One ordered dictionary of name to value (case-sensitive keys, in the order found) instead of bare values.</summary>
    [Parameter]
    public SwitchParameter AsHashtable { get; set; }

    /// <summary>The value a missing literal name stands for, without an error.</summary>
    [Parameter]
    [AllowNull]
    [AllowEmptyString]
    [AllowEmptyCollection]
    public object? Default { get; set; }

    private protected override string[]? NamesGiven => ParameterSetName == LiteralNameSet ? LiteralName : Name;

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (AsHashtable)
        {
            _table = new OrderedDictionary(StringComparer.Ordinal);
        }
    }

    protected override void ProcessRecord()
    {
        if (SelectRecord() is not { } selection)
        {
            return;
        }

        var hasDefault = MyInvocation.BoundParameters.ContainsKey(nameof(Default));
        ForEachStack(selection, selection.Store, (name, matched) =>
        {
            if (ReadEntry(selection.Store, name) is { } entry)
            {
                object? value;
                bool read;
                using (entry)
                {
                    read = TryDeserialize(entry, out value);
                }

                if (read)
                {
                    Emit(name, value);
                }
            }
            else if (matched)
            {
                // A stack that expired or went away since the listing is simply not a match.
            }
            else if (hasDefault)
            {
                Emit(name, Default);
            }
            else
            {
                return false;
            }

            return true;
        });
    }

    protected override void EndProcessing()
    {
        if (_table is not null)
        {
            WriteObject(_table);
        }
    }

    // A stored collection comes back as one object, as Import-Clixml and Get-Variable -ValueOnly give it.
    private void Emit(string name, object? value)
    {
        if (_table is not null)
        {
            _table[name] = value;
        }
        else
        {
            WriteObject(value, enumerateCollection: false);
        }
    }
}
