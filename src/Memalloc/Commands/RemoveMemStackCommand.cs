using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>
/// Deletes stacks. Names come by value or by property name; stack objects from Get-MemStackInfo name their stack
/// literally. A -Name pattern that matches nothing is silent; a missing literal name is a non-terminating
/// MemStackNotFound error.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "MemStack", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(void))]
public sealed class RemoveMemStackCommand : StackSelectionCommandBase
{
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

    private protected override string[]? NamesGiven => ParameterSetName == LiteralNameSet ? LiteralName : Name;

    protected override void ProcessRecord()
    {
        if (SelectRecord() is not { } selection)
        {
            return;
        }

        var storeName = selection.Store;
        ForEachStack(selection, storeName, (name, matched) =>
        {
            if (!matched && !(TryRead(storeName, store => store.Exists(name), out var exists) && exists))
            {
                return false;
            }

            if (!ShouldProcess(Describe(storeName, name), "Remove"))
            {
                return true;
            }

            // A match gone meanwhile (another remover, expiry) is what was asked for; a literal name is not found.
            return (TryRead(storeName, store => store.Remove(name), out var removed) && removed) || matched;
        });
    }
}
