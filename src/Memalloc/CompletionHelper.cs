using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;
using Memalloc.Core;

namespace Memalloc;

/// <summary>Completion results from a list of names: the ones starting with the word typed, quoted where needed.</summary>
internal static class CompletionHelper
{
    public static List<CompletionResult> Complete(IReadOnlyList<string> names, string wordToComplete, bool escapeWildcards)
    {
        var prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
        var results = new List<CompletionResult>();
        foreach (var name in names)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                var text = escapeWildcards ? WildcardPattern.Escape(name) : name;
                results.Add(new CompletionResult(Quote(text), name, CompletionResultType.ParameterValue, name));
            }
        }

        return results;
    }

    // Names with spaces or characters the parser would read as syntax are offered in single quotes.
    private static string Quote(string name)
    {
        foreach (var c in name)
        {
            if (char.IsWhiteSpace(c) || "'\"`$;,(){}[]@#|&<>".Contains(c, StringComparison.Ordinal))
            {
                return "'" + name.Replace("'", "''", StringComparison.Ordinal) + "'";
            }
        }

        return name;
    }
}
