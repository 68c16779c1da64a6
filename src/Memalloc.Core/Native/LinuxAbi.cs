namespace Memalloc.Core.Native;

/// <summary>
/// Linux constants and the <c>struct shmid_ds</c> layout for 64-bit glibc and musl, x64 and arm64.
/// Follows glibc sysdeps/unix/sysv/linux/bits/ipc-perm.h (generic: mode_t mode at 20),
/// sysdeps/unix/sysv/linux/x86/bits/ipc-perm.h (x86_64: unsigned short mode at 20, pad),
/// sysdeps/unix/sysv/linux/bits/shm.h and bits/types/struct_shmid_ds.h, and musl arch/generic/bits/ipc.h,
/// arch/generic/bits/shm.h. All four agree on these offsets for 64-bit targets:
/// <code>
/// struct ipc_perm { key_t key @0; uid_t uid @4; gid_t gid @8; uid_t cuid @12; gid_t cgid @16;
///                   mode (low 16 bits) @20; seq; reserved... }           // 48 bytes
/// struct shmid_ds { struct ipc_perm shm_perm @0; size_t shm_segsz @48; time_t atime @56, dtime @64, ctime @72;
///                   pid_t shm_cpid @80; pid_t shm_lpid @84; shmatt_t (unsigned long) shm_nattch @88; ... } // 112 bytes
/// </code>
/// glibc's and musl's shmctl wrappers add IPC_64 themselves, so plain IPC_STAT (2) is passed.
/// </summary>
internal static unsafe class LinuxAbi
{
    internal const int EIDRM = 43;
    internal const int ENOSYS = 38;
    internal const int ENOTSUP = 95;   // EOPNOTSUPP, asm-generic/errno.h

    /// <summary>open(2) flags for a descriptor that only names a file (asm-generic/fcntl.h, x86_64 and arm64 alike).</summary>
    internal const int O_PATH = 0x200000;      // 010000000
    internal const int O_CLOEXEC = 0x80000;    // 02000000

    /// <summary>Set in shm_perm.mode once IPC_RMID marked the segment for destruction (linux/shm.h SHM_DEST).</summary>
    internal const int SHM_DEST = 0x200;

    internal static SegmentStatus DecodeShmidDs(byte* ds) => new(
        Key: *(int*)(ds + 0),
        Uid: *(uint*)(ds + 4),
        Gid: *(uint*)(ds + 8),
        Cuid: *(uint*)(ds + 12),
        Cgid: *(uint*)(ds + 16),
        Mode: *(ushort*)(ds + 20),
        Size: *(long*)(ds + 48),
        CreatorPid: *(int*)(ds + 80),
        Attached: *(long*)(ds + 88));
}
