using System;
using System.IO;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc;

/// <summary>
/// Every ErrorRecord the cmdlets write is built here, so that ids and categories stay stable and tested.
/// PowerShell appends the cmdlet's type to the id: 'MemStackNotFound,Memalloc.Commands.GetMemStackCommand'.
/// </summary>
internal static class MemallocErrors
{
    public static ErrorRecord StackNotFound(string name, string store) => new(
        new ItemNotFoundException($"Cannot find a stack with the name '{name}' in store '{store}'."),
        "MemStackNotFound", ErrorCategory.ObjectNotFound, name);

    public static ErrorRecord StoreNotFound(string store) => new(
        new ItemNotFoundException($"Cannot find a store with the name '{store}'."),
        "MemStoreNotFound", ErrorCategory.ObjectNotFound, store);

    public static ErrorRecord StoreNotRegistered(string store) => new(
        new ItemNotFoundException($"No Redis store is registered with the name '{store}'."),
        "MemStoreNotRegistered", ErrorCategory.ObjectNotFound, store);

    public static ErrorRecord InvalidKeyPrefix(string prefix) => new(
        new ArgumentException($"-KeyPrefix must not hold '{{' or '}}': the store's name is the hash tag of its keys. It was '{prefix}'."),
        "InvalidKeyPrefix", ErrorCategory.InvalidArgument, prefix);

    public static ErrorRecord InvalidSigningKey() => new(
        new ArgumentException("-SigningKey must be the base64 text of at least 16 bytes, as Register-MemStore shows a key it generated."),
        "InvalidSigningKey", ErrorCategory.InvalidArgument, null);

    public static ErrorRecord StackExists(string name, string store) => new(
        new InvalidOperationException(
            $"A stack with the name '{name}' already exists in store '{store}'; -NoClobber leaves it unchanged."),
        "MemStackExists", ErrorCategory.ResourceExists, name);

    public static ErrorRecord InvalidTimeToLive(TimeSpan timeToLive, TimeSpan minimum, TimeSpan maximum) => new(
        new ArgumentException(
            $"-TimeToLive must be at least {Describe(minimum)} and at most {maximum.TotalDays / 365.25:0} years; it was {Describe(timeToLive)}. "
            + "A bare number is a number of seconds."),
        "InvalidTimeToLive", ErrorCategory.InvalidArgument, timeToLive);

    public static ErrorRecord InvalidTimeout(TimeSpan timeout) => new(
        new ArgumentException($"-Timeout must not be negative; it was {Describe(timeout)}. A bare number is a number of seconds."),
        "InvalidTimeout", ErrorCategory.InvalidArgument, timeout);

    public static ErrorRecord TimeoutWithoutWait(TimeSpan timeout) => new(
        new ArgumentException($"-Timeout ({Describe(timeout)}) says how long -Wait waits: give -Wait too, or leave -Timeout out."),
        "InvalidTimeout", ErrorCategory.InvalidArgument, timeout);

    /// <summary>Use-MemLock could not take the lock within -Timeout; the script block did not run.</summary>
    public static ErrorRecord LockTimeout(string name, string store, TimeSpan timeout) => new(
        new TimeoutException(
            $"Lock '{name}' in store '{store}' is held by another process or runspace, and was not given up within {Describe(timeout)} (-Timeout). "
            + "The script block did not run. Get-MemLock shows who holds it."),
        "MemLockTimeout", ErrorCategory.OperationTimeout, name);

    /// <summary>Use-MemLock's lock (a Redis lease) was lost while its script block ran: the block went on without it.</summary>
    public static ErrorRecord LockLost(string name, string reason) => new(
        new InvalidOperationException($"{reason} The script block ran to its end, in part without the lock; its output was written. "
            + "Pass $_.Token on to what the block changes, so that it can refuse a writer whose lock was lost."),
        "MemLockLost", ErrorCategory.OperationStopped, name);

    /// <summary>A queue item of a Redis store without a valid signature: taken from the queue, never deserialised.</summary>
    public static ErrorRecord UntrustedItem(string queue, string store) => new(
        new System.Security.SecurityException(
            $"An item of queue '{queue}' in store '{store}' does not carry a valid signature of the store's key: it was written by "
            + "someone without the key (or with another one). It was taken from the queue and dropped unread."),
        "UntrustedValue", ErrorCategory.SecurityError, queue);

    public static ErrorRecord StackNameRequired(string cmdlet, string store) => new(
        new ArgumentException(
            $"A store ('{store}', from Get-MemStore) was piped to {cmdlet}, which needs the names of the stacks to work on in it: "
            + "give -Name or -LiteralName. A store's name is never taken for a stack's."),
        "StackNameRequired", ErrorCategory.InvalidArgument, store);

    public static ErrorRecord PipelineStoreConflict(string what) => new(
        new ArgumentException(what), "PipelineStoreConflict", ErrorCategory.InvalidArgument, null);

    public static ErrorRecord NotANumber(string name, object? current) => new(
        new InvalidOperationException(
            $"Stack '{name}' holds a {DescribeType(current)}, not a number; -Increment needs a number."),
        "NotANumber", ErrorCategory.InvalidOperation, name);

    public static ErrorRecord IncrementOverflow(string name, Exception inner) => new(
        new OverflowException($"Incrementing stack '{name}' overflows its number type.", inner),
        "IncrementOverflow", ErrorCategory.InvalidOperation, name);

    /// <summary>An update that gave up: how often it lost the race to another writer, and what stopped it.</summary>
    public static ErrorRecord UpdateConflict(string name, int racesLost, string reason) => new(
        new TimeoutException(
            $"Update-MemStack gave up on stack '{name}' {reason}: it lost the race {racesLost} time{(racesLost == 1 ? string.Empty : "s")} "
            + "to another writer. The stack holds what the other writers wrote; try again."),
        "UpdateConflict", ErrorCategory.ResourceBusy, name);

    public static ErrorRecord SerializationFailed(string name, Exception inner) => new(
        new InvalidOperationException($"The value for stack '{name}' cannot be serialised to CliXml: {inner.Message}", inner),
        "SerializationFailed", ErrorCategory.InvalidData, name);

    public static ErrorRecord DeserializationFailed(string name, Exception inner) => new(
        new InvalidOperationException($"The value of stack '{name}' cannot be read back from CliXml: {inner.Message}", inner),
        "DeserializationFailed", ErrorCategory.InvalidData, name);

    public static ErrorRecord PathNotFound(string path, string message) => new(
        new ItemNotFoundException(message), "PathNotFound", ErrorCategory.ObjectNotFound, path);

    public static ErrorRecord NotAFileSystemPath(string path, string provider) => new(
        new ArgumentException($"The path '{path}' is in the {provider} provider; a snapshot is a file: give a file-system path."),
        "NotAFileSystemPath", ErrorCategory.InvalidArgument, path);

    /// <summary>A snapshot file the file system failed on: a missing folder or file, no permission, a full disk.</summary>
    public static ErrorRecord FileFailure(Exception exception, string path, bool writing) => exception switch
    {
        DirectoryNotFoundException or FileNotFoundException => new(exception, "PathNotFound", ErrorCategory.ObjectNotFound, path),
        UnauthorizedAccessException => new(exception, "PermissionDenied", ErrorCategory.PermissionDenied, path),
        _ when writing => new(new IOException($"Writing the snapshot '{path}' failed, and the file is as it was: {exception.Message}", exception),
            "FileWriteFailed", ErrorCategory.WriteError, path),
        _ => new(new IOException($"Reading the snapshot '{path}' failed: {exception.Message}", exception), "FileReadFailed", ErrorCategory.ReadError, path),
    };

    /// <summary>An import that stopped half-way: the core's failure (a full store, say), with its id and category, and
    /// how far the import got.</summary>
    /// <summary>An import that stopped half-way: how many stacks and queues it wrote whole, and which it was writing
    /// (<paramref name="queueItems"/>: how many items of that queue it wrote, of how many; null for a stack).</summary>
    public static ErrorRecord ImportStopped(MemStoreException exception, string path, string store, long stacks, long queues, string? firstNotWritten,
        (long Written, long Count)? queueItems)
    {
        var where = (firstNotWritten, queueItems) switch
        {
            (null, _) => "before it finished",
            (_, null) => $"before stack '{firstNotWritten}', the first not written (the records after it in the file were not tried)",
            (_, { } items) => $"before queue '{firstNotWritten}', the first not written whole ({items.Written} of its {items.Count} items were "
                + "written, the oldest first; the records after it in the file were not tried)",
        };
        var message = $"Import-MemStore wrote {Commands.SnapshotCommandBase.Contents(stacks, queues)} of '{path}' into store '{store}' {where}: {exception.Message}";
        return new(new MemStoreException(exception.Kind, message, exception), ErrorId(exception.Kind), Category(exception.Kind), firstNotWritten ?? path);
    }

    /// <summary>The one mapping from a core failure to an error id and category.</summary>
    public static ErrorRecord FromStoreException(MemStoreException exception, object? target) =>
        new(exception, ErrorId(exception.Kind), Category(exception.Kind), target);

    /// <summary>Invalid stack or store names stop the command, as a bad argument does.</summary>
    public static bool IsTerminating(MemStoreException exception) =>
        exception.Kind is MemStoreErrorKind.InvalidName or MemStoreErrorKind.InvalidStoreName
            or MemStoreErrorKind.PlatformNotSupported;

    public static string ErrorId(MemStoreErrorKind kind) => kind switch
    {
        MemStoreErrorKind.InvalidName => "InvalidName",
        MemStoreErrorKind.InvalidStoreName => "InvalidStoreName",
        MemStoreErrorKind.InvalidArgument => "InvalidArgument",
        MemStoreErrorKind.StoreNotFound => "MemStoreNotFound",
        MemStoreErrorKind.CapacityExceeded => "StoreFull",
        MemStoreErrorKind.ForeignSegment => "ForeignSegment",
        MemStoreErrorKind.Corrupt => "StoreCorrupt",
        MemStoreErrorKind.StoreRemoved => "StoreRemoved",
        MemStoreErrorKind.PermissionDenied => "PermissionDenied",
        MemStoreErrorKind.PlatformNotSupported => "PlatformNotSupported",
        MemStoreErrorKind.StoreBusy => "StoreBusy",
        MemStoreErrorKind.UntrustedValue => "UntrustedValue",
        MemStoreErrorKind.ConnectionFailed => "ConnectionFailed",
        MemStoreErrorKind.NotSupported => "NotSupported",
        MemStoreErrorKind.ServerError => "ServerError",
        MemStoreErrorKind.NameIsQueue => "MemStackIsQueue",
        MemStoreErrorKind.NameIsStack => "MemQueueIsStack",
        MemStoreErrorKind.InvalidSnapshot => "InvalidSnapshot",
        MemStoreErrorKind.FileExists => "FileExists",
        _ => "NativeFailure",
    };

    /// <summary>
    /// The category of each kind of failure. The core decides the kind, a failed system call's from its errno
    /// (Memalloc.Core.Native.Libc.Classify): nothing here knows errno values. A foreign segment (another owner's or
    /// another program's segment at our key) is reported as PermissionDenied, not SecurityError: to the user it is a
    /// store they may not use, and that is the category scripts already handle for access problems.
    /// </summary>
    public static ErrorCategory Category(MemStoreErrorKind kind) => kind switch
    {
        MemStoreErrorKind.InvalidName or MemStoreErrorKind.InvalidStoreName or MemStoreErrorKind.InvalidArgument
            => ErrorCategory.InvalidArgument,
        MemStoreErrorKind.StoreNotFound => ErrorCategory.ObjectNotFound,
        MemStoreErrorKind.CapacityExceeded => ErrorCategory.LimitsExceeded,
        MemStoreErrorKind.ForeignSegment or MemStoreErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        MemStoreErrorKind.Corrupt or MemStoreErrorKind.InvalidSnapshot => ErrorCategory.InvalidData,
        MemStoreErrorKind.FileExists => ErrorCategory.ResourceExists,
        MemStoreErrorKind.StoreRemoved => ErrorCategory.ResourceUnavailable,
        MemStoreErrorKind.PlatformNotSupported => ErrorCategory.NotImplemented,
        MemStoreErrorKind.StoreBusy => ErrorCategory.ResourceBusy,
        MemStoreErrorKind.UntrustedValue => ErrorCategory.SecurityError,
        MemStoreErrorKind.ConnectionFailed => ErrorCategory.ConnectionError,
        MemStoreErrorKind.NotSupported => ErrorCategory.NotImplemented,
        MemStoreErrorKind.ServerError => ErrorCategory.InvalidResult,
        MemStoreErrorKind.NameIsQueue or MemStoreErrorKind.NameIsStack => ErrorCategory.InvalidType,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>A time span in the user's terms: seconds, as a bare number means, and the span as PowerShell shows it.</summary>
    private static string Describe(TimeSpan span)
    {
        var seconds = span.TotalSeconds;
        if (span.Ticks % TimeSpan.TicksPerSecond == 0 || Math.Abs(seconds) >= 1)
        {
            var text = seconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
            return $"{text} second{(Math.Abs(seconds) == 1 ? string.Empty : "s")} ({span})";
        }

        var milliseconds = span.TotalMilliseconds.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);
        return $"{milliseconds} millisecond{(Math.Abs(span.TotalMilliseconds) == 1 ? string.Empty : "s")} ({span})";
    }

    private static string DescribeType(object? value) => value switch
    {
        null => "null value",
        PSObject psObject when psObject.TypeNames.Count > 0 => psObject.TypeNames[0],
        _ => value.GetType().FullName ?? value.GetType().Name,
    };
}
