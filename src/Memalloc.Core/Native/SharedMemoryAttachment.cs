using System;

namespace Memalloc.Core.Native;

/// <summary>One attachment (shmat) of a System V segment; released by shmdt (<see cref="SharedMapping"/> says when).</summary>
internal sealed class SharedMemoryAttachment : SharedMapping
{
    internal SharedMemoryAttachment(IntPtr address, int shmId, long size)
        : base(address, shmId, size)
    {
    }

    internal int ShmId => Id;

    protected override bool ReleaseHandle() => Libc.ShmDt(handle);
}
