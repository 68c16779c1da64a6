using System;
using System.Management.Automation;

namespace Memalloc;

/// <summary>Accepts any of PowerShell's number types ([int], [long], [double], [decimal], [bigint]...) and nothing
/// else: text that looks like a number is refused rather than concatenated.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateNumberAttribute : ValidateArgumentsAttribute
{
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        if (!PowerShellArithmetic.IsNumber(arguments))
        {
            var type = (arguments is PSObject psObject ? psObject.BaseObject : arguments)?.GetType().Name ?? "null";
            throw new ValidationMetadataException($"'{arguments}' is a {type}, not a number.");
        }
    }
}
