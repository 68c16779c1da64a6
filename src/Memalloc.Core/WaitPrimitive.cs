namespace Memalloc.Core;

/// <summary>How a waiting thread sleeps until another process changes a word in shared memory
/// (docs/coordination-design.md, "The wait primitive").</summary>
public enum WaitPrimitive
{
    /// <summary>Linux futex(2), shared (not FUTEX_PRIVATE_FLAG): the waiter sleeps in the kernel until woken.</summary>
    Futex,
    /// <summary>macOS 14.4+ os_sync_wait_on_address with OS_SYNC_WAIT_ON_ADDRESS_SHARED.</summary>
    OsSyncWaitOnAddress,
    /// <summary>macOS before 14.4: __ulock_wait with UL_COMPARE_AND_WAIT_SHARED.</summary>
    Ulock,
    /// <summary>No usable kernel primitive: the waiter re-checks after sleeps that grow to at most 10 ms.</summary>
    Sleep,
    /// <summary>A Redis store: waiters are woken by the messages its write scripts publish (docs/redis-design.md, "Waits").</summary>
    PubSub,
}
