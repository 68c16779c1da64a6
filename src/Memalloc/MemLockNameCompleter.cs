using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using Memalloc.Core;

namespace Memalloc;

/// <summary>Completes -Name of Use-MemLock and Get-MemLock with the locks held now in the chosen -Store.</summary>
public sealed class MemLockNameCompleter : IArgumentCompleter
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
                : CompletionHelper.Complete(store.ListLocks().Select(l => l.Name).ToList(), wordToComplete, escapeWildcards: commandName == "Get-MemLock");
        }
        catch (MemStoreException)
        {
            return []; // completion must never throw at the user
        }
    }
}
