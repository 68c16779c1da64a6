using System;
using System.Management.Automation;

namespace Memalloc;

/// <summary>Turns text that is one PowerShell number literal into that number, for a parameter typed [object] that takes
/// numbers: PowerShell hands such a parameter '-Increment -5' as the string "-5". Anything else is left as it is.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class NumberTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData) =>
        (inputData is PSObject psObject ? psObject.BaseObject : inputData) is string text && PowerShellArithmetic.TryParseNumber(text, out var number)
            ? number
            : inputData;
}
