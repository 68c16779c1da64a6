using System;
using System.Runtime.InteropServices;

namespace Memalloc.Core.Native;

/// <summary>
/// Shared memory mapped into this process: a System V attachment (<see cref="SharedMemoryAttachment"/>) or a POSIX shared
/// memory object's mapping (<see cref="PosixMapping"/>). <see cref="SafeHandle.ReleaseHandle"/> unmaps it once its owner
/// has disposed it and the last borrower (<see cref="TryBorrow"/>) has given it back, so memory somebody still reads
/// through is never unmapped. Its owner is whoever decides that no new user may come: the store instance for its anchor
/// and its arenas, a using block for a short look.
/// </summary>
internal abstract unsafe class SharedMapping : SafeHandle
{
    private protected SharedMapping(IntPtr address, int id, long size)
        : base(new IntPtr(-1), ownsHandle: true)
    {
        SetHandle(address);
        Address = (byte*)address;
        Id = id;
        Size = size;
    }

    public override bool IsInvalid => handle == new IntPtr(-1);

    internal byte* Address { get; }

    /// <summary>What an anchor's arena reference calls it: the shmid of a System V segment, the object number of a POSIX
    /// object (store-format.md, "POSIX arenas").</summary>
    internal int Id { get; }

    /// <summary>Bytes mapped: the segment's or object's size when it was mapped.</summary>
    internal long Size { get; }

    /// <summary>A reference that keeps the memory mapped until <see cref="Return"/>; false once the owner disposed it
    /// (map it again instead).</summary>
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
}
