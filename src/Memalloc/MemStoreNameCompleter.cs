using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;
using Memalloc.Core;
using Memalloc.Registration;

namespace Memalloc;

/// <summary>Completes store names (-Store, and -Name of the store cmdlets) with the user's existing stores, registered Redis stores included.</summary>
public sealed class MemStoreNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            // Store names cannot hold wildcard characters, so they never need escaping.
            return CompletionHelper.Complete(StoreNames.List(), wordToComplete, escapeWildcards: false);
        }
        catch (MemStoreException)
        {
            return [];
        }
    }
}
