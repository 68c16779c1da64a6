using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>
/// Deletes stacks. Names come by value or by property name (Get-MemStackInfo 'job*' | Remove-MemStack);
/// a pattern that matches nothing is silent, a missing literal name a non-terminating MemStackNotFound error.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "MemStack", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class RemoveMemStackCommand : MemStackCommandBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    public string[] Name { get; set; } = [];

    protected override void ProcessRecord()
    {
        ValidateStore();
        foreach (var name in Name)
        {
            ValidateStackName(name);
            try
            {
                if (IsPattern(name))
                {
                    foreach (var match in ResolvePattern(Store, name))
                    {
                        if (ShouldProcess(Describe(match), "Remove"))
                        {
                            // Gone meanwhile (another remover, expiry) is what was asked for.
                            _ = TryRead(Store, store => store.Remove(match), out _);
                        }
                    }
                }
                else if (!TryRead(Store, store => store.Exists(name), out var exists) || !exists)
                {
                    WriteError(MemallocErrors.StackNotFound(name, Store));
                }
                else if (ShouldProcess(Describe(name), "Remove")
                         && !(TryRead(Store, store => store.Remove(name), out var removed) && removed))
                {
                    WriteError(MemallocErrors.StackNotFound(name, Store));
                }
            }
            catch (MemStoreException e)
            {
                WriteStoreError(e, name);
            }
        }
    }
}
