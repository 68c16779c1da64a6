using System;

namespace Memalloc.Core.Native;

/// <summary>One mapping (mmap, MAP_SHARED) of a POSIX shared memory object, whose descriptor was closed once mapped; released
/// by munmap (<see cref="SharedMapping"/> says when). Keeps what fstat said at mapping time, by which the removal check
/// knows whether the object at the name is still this one.</summary>
internal sealed unsafe class PosixMapping : SharedMapping
{
    internal PosixMapping(IntPtr address, int objectNumber, in FileStatus status)
        : base(address, objectNumber, status.Size)
    {
        Status = status;
    }

    /// <summary>fstat of the object when it was mapped.</summary>
    internal FileStatus Status { get; }

    protected override bool ReleaseHandle() => PosixSharedMemory.Unmap((byte*)handle, Size);
}
