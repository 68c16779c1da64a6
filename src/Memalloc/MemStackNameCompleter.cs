using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;
using Memalloc.Core;

namespace Memalloc;

/// <summary>Completes -Name of the stack and queue cmdlets with the stacks and queues that exist now in the chosen -Store.
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
