namespace Memalloc.Core.Native;

/// <summary>One line of /proc/sysvipc/shm: what the kernel says about a segment, without attaching it.</summary>
internal readonly record struct ProcSegment(int Key, int ShmId, long Size, int CreatorPid, long Attached, uint Uid, uint Cuid);
