using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>True when the stack exists and has not expired (even when it holds $null); never an error
/// for a missing stack or store.</summary>
[Cmdlet(VerbsDiagnostic.Test, "MemStack")]
[OutputType(typeof(bool))]
public sealed class TestMemStackCommand : MemStackCommandBase
{
    /// <summary>The stack's name, taken literally.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    public string Name { get; set; } = string.Empty;

    protected override void ProcessRecord()
    {
        ValidateStore();
        ValidateStackName(Name);
        try
        {
            WriteObject(TryRead(Store, store => store.Exists(Name), out var exists) && exists);
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, Name);
        }
    }
}
