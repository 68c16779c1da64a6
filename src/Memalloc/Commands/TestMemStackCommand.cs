using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>For each name, in order: true when the stack exists and has not expired (even when it holds $null); never
/// an error for a missing stack or store. Names are literal.</summary>
[Cmdlet(VerbsDiagnostic.Test, "MemStack")]
[OutputType(typeof(bool))]
public sealed class TestMemStackCommand : StackSelectionCommandBase
{
    /// <summary>The stacks' names, taken literally.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    public string[] Name { get; set; } = [];

    private protected override string[]? NamesGiven => Name;

    private protected override bool NamesArePatterns => false;

    protected override void ProcessRecord()
    {
        if (SelectRecord() is not { } selection)
        {
            return;
        }

        foreach (var name in selection.Names ?? [])
        {
            try
            {
                WriteObject(TryRead(selection.Store, store => store.Exists(name), out var exists) && exists);
            }
            catch (MemStoreException e)
            {
                WriteStoreError(e, name);
            }
        }
    }
}
