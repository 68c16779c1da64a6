using System.Management.Automation;
using System.Management.Automation.Language;
using System.Numerics;

namespace Memalloc;

/// <summary>Numbers as PowerShell sees them, and addition exactly as PowerShell's own '+' does it (int widening to
/// double on overflow, decimal staying decimal, BigInteger...): through PowerShell itself rather than a copy of its
/// rules.</summary>
internal static class PowerShellArithmetic
{
    private const string AddScript = "param ($a, $b) $a + $b";

    public static bool IsNumber(object? value) =>
        (value is PSObject psObject ? psObject.BaseObject : value)
            is byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal or BigInteger;

    /// <summary>Text that is one PowerShell number literal ('5', '-0.5', '2.5d', '1kb', '0x10') as that number, by
    /// PowerShell's own tokenizer: arguments of an [object] parameter arrive as text ('-Increment -5' is the string
    /// "-5"). The text is only tokenized, never run.</summary>
    public static bool TryParseNumber(string text, out object number)
    {
        number = text;
        Parser.ParseInput(text.Trim(), out var tokens, out var errors);
        if (errors.Length != 0 || tokens.Length != 2 || tokens[0] is not NumberToken literal || tokens[1].Kind != TokenKind.EndOfInput)
        {
            return false;
        }

        number = literal.Value;
        return true;
    }

    /// <summary>$a + $b, in the calling runspace (the cmdlet's pipeline thread). An overflow PowerShell does not widen
    /// (decimal) throws the RuntimeException PowerShell raises.</summary>
    public static object Add(object augend, object addend) =>
        ScriptBlock.Create(AddScript).InvokeReturnAsIs(augend, addend);
}
