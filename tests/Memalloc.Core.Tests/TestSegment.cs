using System;
using Memalloc.TestHost;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>A private System V segment (IPC_PRIVATE, 0600) attached for one test and removed at the end: the wait tests
/// use it as an anchor page that child processes attach by its shmid.</summary>
internal sealed unsafe class TestSegment : IDisposable
{
    private readonly SegmentJanitor _janitor = new();

    internal TestSegment(int size = 4096)
    {
        ShmId = SysVTestNative.ShmGet(0 /* IPC_PRIVATE */, size, SysVTestNative.IPC_CREAT | 0x180 /* 0600 */);
        Assert.True(ShmId >= 0, $"shmget failed with errno {-ShmId}");
        _janitor.Track(ShmId);
        var address = SysVTestNative.ShmAt(ShmId, readOnly: false, out var errno);
        Assert.True(address != IntPtr.Zero, $"shmat failed with errno {errno}");
        Address = (byte*)address;
    }

    internal int ShmId { get; }

    internal byte* Address { get; }

    public void Dispose()
    {
        SysVTestNative.ShmDt((IntPtr)Address);
        _janitor.Dispose();
    }
}
