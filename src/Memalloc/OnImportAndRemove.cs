using System.Management.Automation;

namespace Memalloc;

/// <summary>
/// Process-wide set-up and tear-down. A binary module's assembly stays loaded for the life of the process
/// and is shared by every runspace that imports it, so removing the module from one runspace must not
/// detach stores another runspace is still using: stores are detached only at process exit.
/// </summary>
public sealed class OnModuleImportAndRemove : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    public void OnImport() => StoreCache.HookProcessExit();

    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        // Deliberately nothing: other runspaces may still use the cached stores (see StoreCache).
    }
}
