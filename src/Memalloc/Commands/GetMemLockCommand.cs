using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>Lists the locks held by live processes in a store, sorted by name, with their holder, token and waiters.
/// Never creates the store.</summary>
[Cmdlet(VerbsCommon.Get, "MemLock")]
[OutputType(typeof(MemLockInfo))]
public sealed class GetMemLockCommand : MemStackCommandBase
{
    /// <summary>Names of the locks to list; wildcards allowed. Without it, every held lock.</summary>
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(MemLockNameCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Not from the pipeline: nothing is piped to this cmdlet.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [ValidateNotNullOrEmpty]
    public override string Store { get; set; } = DefaultStore;

    protected override void ProcessRecord()
    {
        ValidateStoreName(Store);
        try
        {
            if (!TryRead(Store, store => store.ListLocks(), out var locks))
            {
                return;
            }

            var patterns = Name is null ? null : System.Array.ConvertAll(Name, n => new WildcardPattern(n, WildcardOptions.None));
            foreach (var held in locks)
            {
                if (patterns is null || System.Array.Exists(patterns, p => p.IsMatch(held.Name)))
                {
                    WriteObject(MemLockInfo.FromCore(held));
                }
            }
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, Store);
        }
    }
}
