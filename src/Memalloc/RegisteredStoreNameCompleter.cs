using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using Memalloc.Core;
using Memalloc.Registration;

namespace Memalloc;

/// <summary>Completes -Name of Unregister-MemStore with the registered Redis stores.</summary>
public sealed class RegisteredStoreNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            return CompletionHelper.Complete(StoreRegistry.All().Keys.Order(System.StringComparer.Ordinal).ToList(), wordToComplete, escapeWildcards: false);
        }
        catch (MemStoreException)
        {
            return [];
        }
    }
}
