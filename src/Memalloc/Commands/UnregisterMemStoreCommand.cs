using System.Linq;
using System.Management.Automation;
using Memalloc.Core;
using Memalloc.Registration;

namespace Memalloc.Commands;

/// <summary>Forgets registrations of Redis stores (never their data on the server): -Store of that name means the
/// shared-memory store of that name again. A missing literal name is a non-terminating MemStoreNotRegistered error.</summary>
[Cmdlet(VerbsLifecycle.Unregister, "MemStore", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class UnregisterMemStoreCommand : MemallocCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegisteredStoreNameCompleter))]
    [AllowEmptyString]
    [SupportsWildcards]
    public string[] Name { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            try
            {
                var registered = StoreRegistry.All().Keys.ToList();
                if (WildcardPattern.ContainsWildcardCharacters(name))
                {
                    foreach (var match in Matching(name, registered).ToList())
                    {
                        Unregister(match);
                    }
                }
                else if (CheckStoreName(name))
                {
                    if (registered.Contains(name))
                    {
                        Unregister(name);
                    }
                    else
                    {
                        WriteError(MemallocErrors.StoreNotRegistered(name));
                    }
                }
            }
            catch (MemStoreException e)
            {
                WriteStoreError(e, name);
            }
        }
    }

    private void Unregister(string storeName)
    {
        if (ShouldProcess($"Registration of Redis store '{storeName}' (its data stays on the server)", "Unregister"))
        {
            _ = StoreRegistry.Remove(storeName);
            StoreCache.Forget(storeName);
        }
    }
}
