using System;

namespace Memalloc.Core;

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
