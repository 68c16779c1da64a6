namespace Memalloc.Core.Native;

/// <summary>One System V segment as the <c>kern.sysv.ipcs.shm</c> iterator lists it: its shmid (which the iterator does
/// not return, and which is rebuilt from the slot index and the sequence number) and its IPC_STAT-shaped status.</summary>
internal readonly record struct DarwinSegment(int ShmId, SegmentStatus Status);
