namespace Memalloc.Core.Native;

/// <summary>
/// macOS (x64 and arm64) constants and the <c>struct shmid_ds</c> layout, following the SDK's sys/ipc.h
/// (<c>struct __ipc_perm_new</c>) and sys/shm.h (<c>struct __shmid_ds_new</c>, under <c>#pragma pack(4)</c>).
/// The field order differs from Linux (uid first, key last) and nattch is an unsigned short:
/// <code>
/// struct ipc_perm { uid_t uid @0; gid_t gid @4; uid_t cuid @8; gid_t cgid @12; mode_t (u16) mode @16;
///                   unsigned short _seq @18; key_t _key @20; }                                  // 24 bytes
/// #pragma pack(4)
/// struct shmid_ds { struct ipc_perm shm_perm @0; size_t shm_segsz @24; pid_t shm_lpid @32; pid_t shm_cpid @36;
///                   shmatt_t (u16) shm_nattch @40; time_t shm_atime @44, shm_dtime @52, shm_ctime @60;
///                   void *shm_internal @68; }                                                   // 76 bytes
/// </code>
/// Untested on this project's machines (only Linux runs here): keep it small and checked against the headers.
/// </summary>
internal static unsafe class MacOSAbi
{
    /// <summary>bsd/sys/errno.h: <c>#define EIDRM 90</c> (82 is EPWROFF).</summary>
    internal const int EIDRM = 90;

    /// <summary>bsd/sys/errno.h: <c>#define ENOSYS 78</c>.</summary>
    internal const int ENOSYS = 78;
    internal const int ENOTSUP = 45;   // sys/errno.h

    /// <summary>open(2) flags (sys/fcntl.h); macOS has no O_PATH.</summary>
    internal const int O_NONBLOCK = 0x4;
    internal const int O_CLOEXEC = 0x1000000;

    /// <summary>bsd/kern/sysv_shm.c: <c>SHMSEG_REMOVED 0x0400</c> and <c>SHMSEG_ALLOCATED 0x0800</c>, kernel bits kept in
    /// <c>shm_perm.mode</c> beside the permission bits. IPC_STAT fails with EINVAL for a removed segment
    /// (shm_find_segment_by_shmid); the kern.sysv.ipcs.shm iterator lists it with SHMSEG_REMOVED set.</summary>
    internal const int SHMSEG_REMOVED = 0x0400;
    internal const int SHMSEG_ALLOCATED = 0x0800;

    internal static SegmentStatus DecodeShmidDs(byte* ds) => new(
        Key: *(int*)(ds + 20),
        Uid: *(uint*)(ds + 0),
        Gid: *(uint*)(ds + 4),
        Cuid: *(uint*)(ds + 8),
        Cgid: *(uint*)(ds + 12),
        Mode: *(ushort*)(ds + 16),
        Size: *(long*)(ds + 24),
        CreatorPid: *(int*)(ds + 36),
        Attached: *(ushort*)(ds + 40));
}
