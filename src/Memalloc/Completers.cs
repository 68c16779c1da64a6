using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;
using Memalloc.Core;

namespace Memalloc;

/// <summary>Completes -Name of the stack cmdlets with the stacks that exist now in the chosen -Store.
/// Names are read on every completion, never cached.</summary>
public sealed class MemStackNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var storeName = fakeBoundParameters?["Store"]?.ToString() ?? Commands.MemStackCommandBase.DefaultStore;
        try
        {
            using var lease = StoreCache.Acquire(storeName, create: false);
            return lease.Store is not { } store
                ? []
                : CompletionHelper.Complete(store.ListNames(), wordToComplete, TakesPatterns(commandName, parameterName));
        }
        catch (MemStoreException)
        {
            // An invalid or unreadable store offers nothing; completion must never throw at the user.
            return [];
        }
    }

    // These read -Name as a pattern: a literal name with [ ] * ? must be offered escaped to mean itself. -LiteralName,
    // and -Name of the other cmdlets, take the name as it is.
    private static bool TakesPatterns(string commandName, string parameterName) =>
        parameterName == "Name" && commandName is "Get-MemStack" or "Remove-MemStack" or "Get-MemStackInfo";
}

/// <summary>Completes store names (-Store, and -Name of the store cmdlets) with the user's existing stores.</summary>
public sealed class MemStoreNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            // Store names cannot hold wildcard characters, so they never need escaping.
            return CompletionHelper.Complete(MemStore.ListStoreNames(), wordToComplete, escapeWildcards: false);
        }
        catch (MemStoreException)
        {
            return [];
        }
    }
}

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
