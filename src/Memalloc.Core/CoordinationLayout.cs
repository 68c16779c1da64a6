namespace Memalloc.Core;

/// <summary>
/// Offsets of the coordination words in the anchor page (docs/store-format.md §3 and §10): the wait buckets at
/// 3072..4095 and the lock-waiter slots at 512..1023, both zero in stores made before them ("nobody waits").
/// </summary>
internal static class CoordinationLayout
{
    internal const int WaitBucketTableOffset = 3072;
    internal const int WaitBucketCount = 64;
    internal const int WaitBucketSize = 16;
    /// <summary>A bucket is chosen by the top bits of the record name's XXH3-64 hash.</summary>
    internal const int WaitBucketShift = 58;
    internal const int WaitBucketSequenceOffset = 0;    // u32 incremented before every wake: the futex word
    internal const int WaitBucketWaitersOffset = 4;     // u32 registered waiters
    internal const int WaitBucketLeaseOffset = 8;       // i64 monotonic ms until which some waiter will be back

    internal const int LockWaiterTableOffset = 512;
    internal const int LockWaiterCount = 32;
    internal const int LockWaiterSize = 16;
    internal const int LockWaiterOwnerOffset = 0;       // u64 startTimeToken << 32 | pid of the waiting process; 0 = free
    internal const int LockWaiterHashOffset = 8;        // u64 XXH3-64 of the lock record's name
}
