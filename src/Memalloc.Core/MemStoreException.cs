using System;

namespace Memalloc.Core;

/// <summary>Why a store operation failed; the cmdlets map each kind to one ErrorCategory.</summary>
public enum MemStoreErrorKind
{
    /// <summary>A stack name is empty, longer than 255 UTF-8 bytes, has a control character or invalid UTF-16.</summary>
    InvalidName,
    /// <summary>A store name is not 1 to 64 characters of letters, digits, '.', '_' or '-'.</summary>
    InvalidStoreName,
    /// <summary>An argument other than a name is out of range (a negative time to live, say).</summary>
    InvalidArgument,
    /// <summary>The store does not exist (only from calls that do not create it).</summary>
    StoreNotFound,
    /// <summary>The value does not fit even at the store's maximum capacity, or the kernel refused the memory.</summary>
    CapacityExceeded,
    /// <summary>A segment at the store's key is not ours (other owner, other creator, group/other bits, wrong magic).</summary>
    ForeignSegment,
    /// <summary>The store's header, index or records break an invariant; nothing was read or written past the fault.</summary>
    Corrupt,
    /// <summary>The store's segments were removed underneath this process (ipcrm, Remove-MemStore, systemd RemoveIPC).</summary>
    StoreRemoved,
    /// <summary>The kernel denied access (EACCES/EPERM).</summary>
    PermissionDenied,
    /// <summary>System V IPC is not available on this platform (Windows, WSL1).</summary>
    PlatformNotSupported,
    /// <summary>Any other failed system call; see <see cref="MemStoreException.NativeFunction"/> and <see cref="MemStoreException.Errno"/>.</summary>
    NativeFailure,
    /// <summary>Another live process is creating the store and has not finished (stopped or starved); retry later.</summary>
    StoreBusy,
}

/// <summary>The one exception type the core throws for expected failures.</summary>
public sealed class MemStoreException : Exception
{
    public MemStoreException(MemStoreErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public MemStoreException(MemStoreErrorKind kind, string message, string nativeFunction, int errno)
        : base(message)
    {
        Kind = kind;
        NativeFunction = nativeFunction;
        Errno = errno;
    }

    public MemStoreException()
        : this(MemStoreErrorKind.NativeFailure, "A Memalloc store operation failed.")
    {
    }

    public MemStoreException(string message)
        : this(MemStoreErrorKind.NativeFailure, message)
    {
    }

    public MemStoreException(string message, Exception innerException)
        : this(MemStoreErrorKind.NativeFailure, message, innerException)
    {
    }

    public MemStoreErrorKind Kind { get; }

    /// <summary>The libc function that failed, when a system call is the cause.</summary>
    public string? NativeFunction { get; }

    /// <summary>The errno value of the failed call (0 when not a system call).</summary>
    public int Errno { get; }
}
