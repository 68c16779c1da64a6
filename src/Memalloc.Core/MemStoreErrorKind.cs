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
    /// <summary>A value in a Redis store has no valid signature of the store's key: it is never deserialised.</summary>
    UntrustedValue,
    /// <summary>The Redis server could not be reached, or did not answer within the timeout.</summary>
    ConnectionFailed,
    /// <summary>The server lacks something the store needs (a Redis version, Lua scripting).</summary>
    NotSupported,
    /// <summary>The Redis server answered a command with an error other than the ones above.</summary>
    ServerError,
    /// <summary>A stack operation named a queue (a name is a stack or a queue, never both); nothing was changed.</summary>
    NameIsQueue,
    /// <summary>A queue operation named a stack; nothing was changed.</summary>
    NameIsStack,
    /// <summary>A snapshot file is truncated, damaged, malformed, of another format version, or not a snapshot at all.</summary>
    InvalidSnapshot,
    /// <summary>A snapshot's target file exists and was not to be replaced (-NoClobber).</summary>
    FileExists,
}
