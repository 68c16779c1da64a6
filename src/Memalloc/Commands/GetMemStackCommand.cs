using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>
/// Returns stored values. A name with wildcard characters is a pattern (matches in name order, silent when
/// none match); a missing literal name is a non-terminating MemStackNotFound error, as Get-Variable does.
/// </summary>
[Cmdlet(VerbsCommon.Get, "MemStack")]
[OutputType(typeof(object))]
public sealed class GetMemStackCommand : MemStackCommandBase
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
                        // A stack that expired or went away since the listing is simply not a match.
                        if (ReadEntry(match) is { } entry)
                        {
                            WriteValue(entry);
                        }
                    }
                }
                else if (ReadEntry(name) is { } entry)
                {
                    WriteValue(entry);
                }
                else
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

    // A stored collection comes back as one object, as Import-Clixml and Get-Variable -ValueOnly give it.
    private void WriteValue(StackEntry entry)
    {
        if (TryDeserialize(entry, out var value))
        {
            WriteObject(value, enumerateCollection: false);
        }
    }
}
