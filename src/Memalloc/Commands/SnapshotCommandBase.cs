using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;

namespace Memalloc.Commands;

/// <summary>What Export-MemStore and Import-MemStore share: -Include/-Exclude, the two ways to give a path, turning a
/// PowerShell path into a file-system path, and file-system failures as error records.</summary>
public abstract class SnapshotCommandBase : MemallocCmdlet
{
    private protected const string PathSet = "Path";
    private protected const string LiteralPathSet = "LiteralPath";

    /// <summary>Only the stacks and queues whose names match one of these (case-sensitive wildcards).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNull]
    public string[]? Include { get; set; }

    /// <summary>Not the stacks and queues whose names match one of these, after -Include chose.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNull]
    public string[]? Exclude { get; set; }

    /// <summary>
    /// Whether asking ShouldProcess for every stack and queue can do anything: -WhatIf (it lists them), a confirmation that would
    /// prompt at this cmdlet's impact (Medium), or -Verbose (it reports each). Otherwise every call would answer yes and
    /// print nothing, and 100,000 of them cost more than the rest of an export.
    /// </summary>
    private protected bool AsksPerName()
    {
        if (IsWhatIf() || MyInvocation.BoundParameters.TryGetValue("Confirm", out var confirm) && LanguagePrimitives.IsTrue(confirm))
        {
            return true;
        }

        if (MyInvocation.BoundParameters.TryGetValue("Verbose", out var verbose))
        {
            return LanguagePrimitives.IsTrue(verbose);
        }

        var confirmPreference = SessionState.PSVariable.GetValue("ConfirmPreference") is ConfirmImpact c ? c : ConfirmImpact.High;
        var verbosePreference = SessionState.PSVariable.GetValue("VerbosePreference") is ActionPreference v ? v : ActionPreference.SilentlyContinue;
        return (confirmPreference != ConfirmImpact.None && confirmPreference <= ConfirmImpact.Medium)
            || verbosePreference is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
    }

    /// <summary>The name filter of -Include and -Exclude; null when neither was given (every stack and queue).</summary>
    private protected Func<string, bool>? NameFilter()
    {
        if (Include is null && Exclude is null)
        {
            return null;
        }

        var include = Patterns(Include);
        var exclude = Patterns(Exclude);
        return name => (include.Count == 0 || include.Exists(p => p.IsMatch(name))) && !exclude.Exists(p => p.IsMatch(name));
    }

    private static List<WildcardPattern> Patterns(string[]? patterns)
    {
        var result = new List<WildcardPattern>();
        foreach (var pattern in patterns ?? [])
        {
            result.Add(new WildcardPattern(pattern, WildcardOptions.None));
        }

        return result;
    }

    /// <summary>
    /// The file-system path a -Path or -LiteralPath stands for, as Export-Clixml and Import-Clixml resolve theirs: a -Path
    /// with wildcards must name exactly one existing file (for reading, any -Path must name one); otherwise the path is
    /// taken as written, relative to the current location. Null after a non-terminating error.
    /// </summary>
    private protected string? ResolveFilePath(string path, bool literal, bool mustExist)
    {
        try
        {
            ProviderInfo provider;
            string resolved;
            if (!literal && (mustExist || WildcardPattern.ContainsWildcardCharacters(path)))
            {
                var matches = GetResolvedProviderPathFromPSPath(path, out provider);
                if (matches.Count != 1)
                {
                    WriteError(MemallocErrors.PathNotFound(path, $"The path '{path}' names {matches.Count} files; give the path of one snapshot file."));
                    return null;
                }

                resolved = matches[0];
            }
            else
            {
                resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _);
            }

            if (provider.Name != "FileSystem")
            {
                WriteError(MemallocErrors.NotAFileSystemPath(path, provider.Name));
                return null;
            }

            return resolved;
        }
        catch (ItemNotFoundException e)
        {
            WriteError(MemallocErrors.PathNotFound(path, e.Message));
            return null;
        }
    }

    /// <summary>"3 stacks", "1 stack and 2 queues": what a snapshot or an import holds, in words.</summary>
    internal static string Contents(long stacks, long queues) =>
        $"{stacks} stack{(stacks == 1 ? string.Empty : "s")}" + (queues == 0 ? string.Empty : $" and {queues} queue{(queues == 1 ? string.Empty : "s")}");

    private protected static string DescribeQueue(string storeName, string name) => $"Queue '{name}' in store '{storeName}'";

    /// <summary>A failure of the file system (a missing folder, no permission, a full disk) as an error record.</summary>
    private protected void WriteFileError(Exception exception, string path, bool writing) =>
        WriteError(MemallocErrors.FileFailure(exception, path, writing));

    /// <summary>Exceptions of the file system that a snapshot cmdlet reports as errors of one file.</summary>
    private protected static bool IsFileFailure(Exception e) => e is IOException or UnauthorizedAccessException;
}
