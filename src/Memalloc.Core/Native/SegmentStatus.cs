using System;

namespace Memalloc.Core.Native;

/// <summary>
/// Status of one System V segment as IPC_STAT reports it, in the same shape on every platform (the raw
/// <c>struct shmid_ds</c> differs: see <see cref="LinuxAbi"/> and <see cref="MacOSAbi"/>), and the questions the store
/// asks of it: so that nothing above this folder reads mode bits.
/// </summary>
internal readonly record struct SegmentStatus(int Key, uint Uid, uint Gid, uint Cuid, uint Cgid, int Mode, long Size, int CreatorPid,
    long Attached)
{
    /// <summary>True once IPC_RMID has marked the segment for destruction: it exists while attached, and goes with the
    /// last detach. Linux reports SHM_DEST in the mode and the key as IPC_PRIVATE; macOS the key, and SHMSEG_REMOVED in the
    /// mode where it shows such a segment at all (its IPC_STAT fails with EINVAL; the kern.sysv.ipcs.shm listing shows it).</summary>
    internal bool IsMarkedForRemoval => Key == Libc.IPC_PRIVATE
        || (Mode & (OperatingSystem.IsMacOS() ? MacOSAbi.SHMSEG_REMOVED : LinuxAbi.SHM_DEST)) != 0;

    /// <summary>The low nine mode bits (rwxrwxrwx).</summary>
    internal int PermissionBits => Mode & Libc.ModePermissionBits;

    /// <summary>The permission bits as <c>ls</c> shows them: "rw-------".</summary>
    internal string Permissions
    {
        get
        {
            Span<char> text = stackalloc char[9];
            const string Letters = "rwx";
            for (var i = 0; i < 9; i++)
            {
                text[i] = (Mode & (1 << (8 - i))) != 0 ? Letters[i % 3] : '-';
            }

            return new string(text);
        }
    }

    /// <summary>True when the segment may be one of <paramref name="uid"/>'s stores: owner and creator are that user, no
    /// group or other permission bit is set, and it has at least <paramref name="minimumSize"/> bytes. Everything else is
    /// never attached: another user cannot create a segment whose creator is us.</summary>
    internal bool IsOwnedBy(uint uid, long minimumSize) =>
        Uid == uid && Cuid == uid && (Mode & Libc.ModeGroupAndOther) == 0 && Size >= minimumSize;
}
