using System;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>
/// Waits, asleep in the kernel, until a stack (or a queue) changes: its next write or removal, a version other than
/// the one given, or its creation (docs/coordination-design.md, "Wait-MemStack"). Emits the info after the change,
/// nothing after a removal or when -Timeout passes.
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "MemStack", DefaultParameterSetName = VersionSet)]
[OutputType(typeof(MemStackInfo))]
public sealed class WaitMemStackCommand : CoordinationCommandBase
{
    // -Version is optional in the default set, not mandatory in a set of its own: the binder prefers the default set
    // for pipeline input, so a mandatory -Version there would never be bound from Get-MemStackInfo's Version.
    private const string VersionSet = "Version";
    private const string ExistsSet = "Exists";

    /// <summary>The stack's or queue's name, taken literally.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MemStackNameCompleter))]
    [AllowEmptyString]
    public string Name { get; set; } = string.Empty;

    /// <summary>Returns when the version differs from this one (0: missing); at once when it already does. Without it,
    /// the version when the call starts: the next change.</summary>
    [Parameter(ParameterSetName = VersionSet, ValueFromPipelineByPropertyName = true)]
    public long? Version { get; set; }

    /// <summary>Returns when the stack exists: at once, or at its creation.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ExistsSet)]
    public SwitchParameter Exists { get; set; }

    /// <summary>How long to wait at most (a bare number is seconds); then nothing is emitted, and no error.</summary>
    [Parameter]
    [SecondsTransformation]
    public TimeSpan? Timeout { get; set; }

    protected override void BeginProcessing() => ValidateTimeout(Timeout);

    protected override void ProcessRecord()
    {
        ValidateStackName(Name);
        ValidateStoreName(Store);
        try
        {
            var version = Exists ? 0
                : Version ?? (TryRead(Store, store => store.GetInfo(Name)?.Version ?? 0, out var current) ? current : 0);

            if (version < 0)
            {
                ThrowTerminatingError(MemallocErrors.FromStoreException(
                    new MemStoreException(MemStoreErrorKind.InvalidArgument, $"-Version cannot be negative ({version})."), version));
            }

            var wait = WaitTime(Timeout);
            var started = Environment.TickCount64;
            var info = Waiting(() => OnStoreReopening(Store, store =>
                store.WaitForChange(Name, version, Left(wait, started), StopToken, out var changed) ? changed : null));
            if (info is not null)
            {
                WriteObject(MemStackInfo.FromCore(info));
            }
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, Name);
        }
    }
}
