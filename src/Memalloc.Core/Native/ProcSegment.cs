namespace Memalloc.Core.Native;

/// <summary>One segment as the kernel lists it (a line of Linux's /proc/sysvipc/shm, an entry of macOS's kern.sysv.ipcs.shm):
/// what the kernel says about it, without attaching it.</summary>
internal readonly record struct ProcSegment(int Key, int ShmId, long Size, int CreatorPid, long Attached, uint Uid, uint Cuid);
