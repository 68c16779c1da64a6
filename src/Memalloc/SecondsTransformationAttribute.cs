using System;
using System.Globalization;
using System.Management.Automation;
using System.Numerics;

namespace Memalloc;

/// <summary>
/// Reads a bare number (or numeric text) given to a TimeSpan parameter as that many seconds: on its own, PowerShell
/// turns -TimeToLive 5 into 5 ticks and '90' into 90 days. Anything else ('00:05:00', a TimeSpan, New-TimeSpan's
/// output) is left to PowerShell's own conversion.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SecondsTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject psObject ? psObject.BaseObject : inputData;
        double? seconds = value switch
        {
            byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal
                => Convert.ToDouble(value, CultureInfo.InvariantCulture),
            BigInteger big => (double)big,
            string text when PowerShellArithmetic.TryParseNumber(text, out var parsed) && PowerShellArithmetic.IsNumber(parsed)
                => parsed is BigInteger bigText ? (double)bigText : Convert.ToDouble(parsed, CultureInfo.InvariantCulture),
            _ => null,
        };

        return seconds is { } given ? FromSeconds(given) : inputData;
    }

    /// <summary>A number of seconds as a TimeSpan, saturating at TimeSpan's limits so that the caller's range check
    /// (not an overflow here) reports a number too large to be a time span.</summary>
    private static TimeSpan FromSeconds(double seconds)
    {
        if (double.IsNaN(seconds))
        {
            throw new ArgumentTransformationMetadataException("NaN is not a number of seconds.");
        }

        var ticks = Math.Round(seconds * TimeSpan.TicksPerSecond);
        return ticks >= long.MaxValue ? TimeSpan.MaxValue
            : ticks <= long.MinValue ? TimeSpan.MinValue
            : TimeSpan.FromTicks((long)ticks);
    }
}
