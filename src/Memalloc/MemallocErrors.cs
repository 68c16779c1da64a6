using System;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc;

/// <summary>
/// Every ErrorRecord the cmdlets write is built here, so that ids and categories stay stable and tested.
/// PowerShell appends the cmdlet's type to the id: 'MemStackNotFound,Memalloc.Commands.GetMemStackCommand'.
/// </summary>
internal static class MemallocErrors
{
    // errno values shared by Linux and macOS (asm-generic/errno-base.h, sys/errno.h).
    private const int EPERM = 1;
    private const int ENOENT = 2;
    private const int ENOMEM = 12;
    private const int EACCES = 13;
    private const int EINVAL = 22;
    private const int ENOSPC = 28;

    public static ErrorRecord StackNotFound(string name, string store) => new(
        new ItemNotFoundException($"Cannot find a stack with the name '{name}' in store '{store}'."),
        "MemStackNotFound", ErrorCategory.ObjectNotFound, name);

    public static ErrorRecord StoreNotFound(string store) => new(
        new ItemNotFoundException($"Cannot find a store with the name '{store}'."),
        "MemStoreNotFound", ErrorCategory.ObjectNotFound, store);

    public static ErrorRecord StackExists(string name, string store) => new(
        new InvalidOperationException(
            $"A stack with the name '{name}' already exists in store '{store}'; -NoClobber leaves it unchanged."),
        "MemStackExists", ErrorCategory.ResourceExists, name);

    public static ErrorRecord InvalidTimeToLive(TimeSpan timeToLive) => new(
        new ArgumentOutOfRangeException(nameof(timeToLive), timeToLive,
            "The time to live must be positive and end before the year 10000."),
        "InvalidTimeToLive", ErrorCategory.InvalidArgument, timeToLive);

    public static ErrorRecord NotANumber(string name, object? current) => new(
        new InvalidOperationException(
            $"Stack '{name}' holds a {DescribeType(current)}, not a number; -Increment needs a number."),
        "NotANumber", ErrorCategory.InvalidOperation, name);

    public static ErrorRecord IncrementOverflow(string name, Exception inner) => new(
        new OverflowException($"Incrementing stack '{name}' overflows its number type.", inner),
        "IncrementOverflow", ErrorCategory.InvalidOperation, name);

    public static ErrorRecord UpdateConflict(string name, int attempts) => new(
        new InvalidOperationException(
            $"Stack '{name}' changed under every one of {attempts} update attempts; try again."),
        "UpdateConflict", ErrorCategory.ResourceBusy, name);

    public static ErrorRecord SerializationFailed(string name, Exception inner) => new(
        new InvalidOperationException($"The value for stack '{name}' cannot be serialised to CliXml: {inner.Message}", inner),
        "SerializationFailed", ErrorCategory.InvalidData, name);

    public static ErrorRecord DeserializationFailed(string name, Exception inner) => new(
        new InvalidOperationException($"The value of stack '{name}' cannot be read back from CliXml: {inner.Message}", inner),
        "DeserializationFailed", ErrorCategory.InvalidData, name);

    /// <summary>The one mapping from a core failure to an error id and category.</summary>
    public static ErrorRecord FromStoreException(MemStoreException exception, object? target) =>
        new(exception, ErrorId(exception.Kind), Category(exception.Kind, exception.Errno), target);

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
        _ => "NativeFailure",
    };

    /// <summary>
    /// A foreign segment (another owner's or another program's segment at our key) is reported as
    /// PermissionDenied, not SecurityError: to the user it is a store they may not use, and that is
    /// the category scripts already handle for access problems.
    /// </summary>
    public static ErrorCategory Category(MemStoreErrorKind kind, int errno) => kind switch
    {
        MemStoreErrorKind.InvalidName or MemStoreErrorKind.InvalidStoreName or MemStoreErrorKind.InvalidArgument
            => ErrorCategory.InvalidArgument,
        MemStoreErrorKind.StoreNotFound => ErrorCategory.ObjectNotFound,
        MemStoreErrorKind.CapacityExceeded => ErrorCategory.LimitsExceeded,
        MemStoreErrorKind.ForeignSegment or MemStoreErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        MemStoreErrorKind.Corrupt => ErrorCategory.InvalidData,
        MemStoreErrorKind.StoreRemoved => ErrorCategory.ResourceUnavailable,
        MemStoreErrorKind.PlatformNotSupported => ErrorCategory.NotImplemented,
        MemStoreErrorKind.StoreBusy => ErrorCategory.ResourceBusy,
        _ => errno switch
        {
            EACCES or EPERM => ErrorCategory.PermissionDenied,
            ENOENT => ErrorCategory.ObjectNotFound,
            EINVAL => ErrorCategory.InvalidArgument,
            ENOMEM or ENOSPC => ErrorCategory.LimitsExceeded,
            _ => ErrorCategory.NotSpecified,
        },
    };

    private static string DescribeType(object? value) => value switch
    {
        null => "null value",
        PSObject psObject when psObject.TypeNames.Count > 0 => psObject.TypeNames[0],
        _ => value.GetType().FullName ?? value.GetType().Name,
    };
}
