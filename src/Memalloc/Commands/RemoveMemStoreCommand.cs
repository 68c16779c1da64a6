using System.Linq;
using System.Management.Automation;
using Memalloc.Core;
using Memalloc.Registration;

namespace Memalloc.Commands;

/// <summary>
/// Destroys stores and their segments (every stack in them; a registered Redis store is emptied on its server and stays
/// registered), and frees orphaned segments (names 'orphaned:' and the
/// anchor key, as Get-MemStore lists them). High impact: confirms unless -Force or -Confirm:$false; -WhatIf always wins.
/// A missing literal store name is a non-terminating MemStoreNotFound error.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "MemStore", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveMemStoreCommand : MemallocCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [AllowEmptyString]
    [SupportsWildcards]
    public string[] Name { get; set; } = [];

    /// <summary>Removes without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            try
            {
                if (WildcardPattern.ContainsWildcardCharacters(name))
                {
                    foreach (var storeName in Matching(name, StoreNames.List()).ToList())
                    {
                        Destroy(storeName, reportMissing: false);
                    }

                    var orphanNames = MemStore.ListOrphanedSegments().Select(orphans => MemStoreInfo.OrphanName(orphans.AnchorKey));
                    foreach (var orphanName in Matching(name, orphanNames).ToList())
                    {
                        _ = MemStoreInfo.TryParseOrphanName(orphanName, out var anchorKey);
                        RemoveOrphans(anchorKey, reportMissing: false);
                    }
                }
                else if (MemStoreInfo.TryParseOrphanName(name, out var anchorKey))
                {
                    RemoveOrphans(anchorKey, reportMissing: true);
                }
                else
                {
                    ValidateStoreName(name);
                    if (StoreNames.List().Contains(name))
                    {
                        Destroy(name, reportMissing: true);
                    }
                    else
                    {
                        WriteError(MemallocErrors.StoreNotFound(name));
                    }
                }
            }
            catch (MemStoreException e)
            {
                WriteStoreError(e, name);
            }
        }
    }

    private void Destroy(string storeName, bool reportMissing)
    {
        var registration = StoreRegistry.Find(storeName);
        if (!ShouldRemove(registration is null ? $"Store '{storeName}' and all its stacks"
                : $"Redis store '{storeName}' and all its stacks (the registration stays: Unregister-MemStore forgets it)"))
        {
            return;
        }

        bool existed;
        if (registration is not null)
        {
            // A registered store exists as long as it is registered: removing it empties it on the server.
            _ = RedisBackendLoader.Backend.Destroy(registration.ToSettings());
            existed = true;
        }
        else
        {
            existed = MemStore.DestroyStore(storeName);
        }

        StoreCache.Forget(storeName);
        if (!existed && reportMissing)
        {
            WriteError(MemallocErrors.StoreNotFound(storeName));
        }
    }

    private void RemoveOrphans(int anchorKey, bool reportMissing)
    {
        var name = MemStoreInfo.OrphanName(anchorKey);
        if (!MemStore.ListOrphanedSegments().Any(orphans => orphans.AnchorKey == anchorKey))
        {
            if (reportMissing)
            {
                WriteError(MemallocErrors.StoreNotFound(name));
            }

            return;
        }

        if (ShouldRemove($"Orphaned segments '{name}' (left by a store whose anchor segment is gone)"))
        {
            _ = MemStore.RemoveOrphanedSegments(anchorKey);
        }
    }

    // -Force skips the prompt (unless -Confirm asks for it explicitly) but never -WhatIf.
    private bool ShouldRemove(string target)
    {
        if (Force && !MyInvocation.BoundParameters.ContainsKey("Confirm") && !IsWhatIf())
        {
            return true;
        }

        return ShouldProcess(target, "Remove");
    }
}
