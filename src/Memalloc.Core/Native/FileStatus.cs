namespace Memalloc.Core.Native;

/// <summary>What <c>fstat</c> says about a POSIX shared memory object, in the same shape on every platform (the raw
/// <c>struct stat</c> differs per platform: <see cref="FileStatusLayout"/>). On macOS a shm object reports only mode,
/// uid, gid and size (bsd/kern/posix_shm.c, pshm_stat: the rest is zero, no file type bits, no inode, no link count).</summary>
internal readonly record struct FileStatus(ulong Device, ulong Inode, ulong Links, uint Mode, uint Uid, uint Gid, long Size)
{
    /// <summary>Permission bits (rwx for owner, group, other), without type, setuid, setgid or sticky bits.</summary>
    internal int Permissions => (int)(Mode & 0x1FF);

    /// <summary>S_ISREG: the file type bits (S_IFMT 0170000) say regular file (S_IFREG 0100000). A Linux shm object is a
    /// regular file in /dev/shm; macOS reports no type bits for one.</summary>
    internal bool IsRegularFile => (Mode & 0xF000) == 0x8000;

    /// <summary>Neither a regular file nor a directory: a device, a FIFO or a socket (S_IFMT 0170000, S_IFREG 0100000,
    /// S_IFDIR 0040000: the same in Linux's and macOS's sys/stat.h).</summary>
    internal bool IsSpecial => (Mode & 0xF000) is not (0x8000 or 0x4000);
}
