using System;
using System.Runtime.InteropServices;

namespace Memalloc.Core.Native;

/// <summary>
/// One attachment (shmat) of a System V segment. <see cref="ReleaseHandle"/> detaches it (shmdt), once its owner has
/// disposed it and the last borrower (<see cref="TryBorrow"/>) has given it back, so memory somebody still reads through
/// is never unmapped. Its owner is whoever decides that no new user may come: the store instance for its anchor and its
/// arenas, a using block for a short look at a segment.
/// </summary>
internal sealed unsafe class SharedMemoryAttachment : SafeHandle
{
    internal SharedMemoryAttachment(IntPtr address, int shmId, long size)
        : base(new IntPtr(-1), ownsHandle: true)
    {
        SetHandle(address);
        Address = (byte*)address;
        ShmId = shmId;
        Size = size;
    }

    public override bool IsInvalid => handle == new IntPtr(-1);

    internal byte* Address { get; }

    internal int ShmId { get; }

    /// <summary>Bytes of the segment, as IPC_STAT reported them at attach or as created.</summary>
    internal long Size { get; }

    /// <summary>A reference that keeps the segment attached until <see cref="Return"/>; false once the owner disposed it
    /// (attach again instead).</summary>
    internal bool TryBorrow()
    {
        var added = false;
        try
        {
            DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
        }

        return added;
    }

    internal void Return() => DangerousRelease();

    protected override bool ReleaseHandle() => Libc.ShmDt(handle);
}
