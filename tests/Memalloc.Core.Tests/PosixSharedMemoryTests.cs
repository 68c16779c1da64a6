using System;
using System.Buffers.Binary;
using System.IO;
using Memalloc.Core.Native;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>The POSIX shared memory calls behind POSIX arenas, run for real (on Linux, objects live in /dev/shm), and
/// the <c>struct stat</c> layouts of both Linux ABIs on buffers.</summary>
public class PosixSharedMemoryTests
{
    private static string UniqueName() => $"/mt.{Environment.ProcessId:x}.{Guid.NewGuid():N}"[..PosixSharedMemory.MaxNameLength];

    [Fact]
    public unsafe void Created_object_is_ours_0600_of_the_asked_size_and_shared_through_a_second_mapping()
    {
        var name = UniqueName();
        var fd = PosixSharedMemory.Create(name, 64 * 1024, out var errno);
        Assert.True(fd >= 0, $"shm_open failed with errno {errno}");
        try
        {
            Assert.True(PosixSharedMemory.TryStat(fd, out var status, out errno), $"fstat failed with errno {errno}");
            Assert.Equal(Libc.GetUid(), status.Uid);
            Assert.Equal(PosixSharedMemory.OwnerReadWrite, status.Permissions);
            Assert.Equal(64 * 1024, status.Size);
            Assert.Equal(1UL, status.Links);

            var first = PosixSharedMemory.Map(fd, 64 * 1024, out errno);
            Assert.True(first != null, $"mmap failed with errno {errno}");
            var again = PosixSharedMemory.Open(name, out errno);
            Assert.True(again >= 0, $"shm_open of the existing object failed with errno {errno}");
            var second = PosixSharedMemory.Map(again, 64 * 1024, out _);
            PosixSharedMemory.Close(again);
            first[65535] = 0x5A;
            Assert.Equal(0x5A, second[65535]);
            Assert.True(PosixSharedMemory.Unmap(first, 64 * 1024));
            Assert.True(PosixSharedMemory.Unmap(second, 64 * 1024));
        }
        finally
        {
            PosixSharedMemory.Close(fd);
            PosixSharedMemory.Unlink(name);
        }
    }

    [Fact]
    public void Creating_at_a_taken_name_fails_with_EEXIST_and_leaves_the_object()
    {
        var name = UniqueName();
        var fd = PosixSharedMemory.Create(name, 4096, out _);
        try
        {
            Assert.Equal(-1, PosixSharedMemory.Create(name, 8192, out var errno));
            Assert.Equal(Libc.EEXIST, errno);
            Assert.True(PosixSharedMemory.TryStat(fd, out var status, out _));
            Assert.Equal(4096, status.Size);
        }
        finally
        {
            PosixSharedMemory.Close(fd);
            PosixSharedMemory.Unlink(name);
        }
    }

    [Fact]
    public void Unlinked_object_shows_no_links_while_still_open_and_its_name_is_gone()
    {
        var name = UniqueName();
        var fd = PosixSharedMemory.Create(name, 4096, out _);
        try
        {
            Assert.Equal(0, PosixSharedMemory.Unlink(name));
            Assert.True(PosixSharedMemory.TryStat(fd, out var status, out _));
            Assert.Equal(0UL, status.Links);
            Assert.Equal(-1, PosixSharedMemory.Open(name, out var errno));
            Assert.Equal(Libc.ENOENT, errno);
            Assert.Equal(Libc.ENOENT, PosixSharedMemory.Unlink(name));
        }
        finally
        {
            PosixSharedMemory.Close(fd);
        }
    }

    /// <summary>posix_fallocate reserves tmpfs pages (Linux only): without it the object is created and the first write
    /// to a page /dev/shm cannot back raises SIGBUS in the writer.</summary>
    [SysVFact]
    public void Object_larger_than_dev_shm_can_hold_fails_at_creation_not_at_first_touch()
    {
        var free = new DriveInfo("/dev/shm").AvailableFreeSpace;
        var name = UniqueName();
        var fd = PosixSharedMemory.Create(name, checked((free + (1L << 30)) & ~4095L), out var errno);
        if (fd >= 0)
        {
            PosixSharedMemory.Close(fd);
            PosixSharedMemory.Unlink(name);
        }

        Assert.Equal(-1, fd);
        Assert.Equal(Libc.ENOSPC, errno);
        Assert.Equal(Libc.ENOENT, PosixSharedMemory.Unlink(name)); // the failed object was removed again
    }

    [Fact]
    public void Stat_layouts_of_Linux_x64_and_generic_64_bit_read_the_header_offsets()
    {
        var x64 = new byte[144];
        BinaryPrimitives.WriteUInt64LittleEndian(x64.AsSpan(0), 0x2A);     // st_dev
        BinaryPrimitives.WriteUInt64LittleEndian(x64.AsSpan(8), 777);      // st_ino
        BinaryPrimitives.WriteUInt64LittleEndian(x64.AsSpan(16), 1);       // st_nlink (u64 on x86_64)
        BinaryPrimitives.WriteUInt32LittleEndian(x64.AsSpan(24), 0x8180);  // st_mode: S_IFREG | 0600
        BinaryPrimitives.WriteUInt32LittleEndian(x64.AsSpan(28), 1000);    // st_uid
        BinaryPrimitives.WriteUInt32LittleEndian(x64.AsSpan(32), 100);     // st_gid
        BinaryPrimitives.WriteInt64LittleEndian(x64.AsSpan(48), 1 << 20);  // st_size
        Assert.Equal(new FileStatus(0x2A, 777, 1, 0x8180, 1000, 100, 1 << 20), FileStatusLayout.DecodeLinuxX64(x64));

        var generic = new byte[128];
        BinaryPrimitives.WriteUInt64LittleEndian(generic.AsSpan(0), 0x2A);    // st_dev
        BinaryPrimitives.WriteUInt64LittleEndian(generic.AsSpan(8), 777);     // st_ino
        BinaryPrimitives.WriteUInt32LittleEndian(generic.AsSpan(16), 0x8180); // st_mode
        BinaryPrimitives.WriteUInt32LittleEndian(generic.AsSpan(20), 1);      // st_nlink (u32)
        BinaryPrimitives.WriteUInt32LittleEndian(generic.AsSpan(24), 1000);   // st_uid
        BinaryPrimitives.WriteUInt32LittleEndian(generic.AsSpan(28), 100);    // st_gid
        BinaryPrimitives.WriteInt64LittleEndian(generic.AsSpan(48), 1 << 20); // st_size
        var decoded = FileStatusLayout.DecodeLinuxGeneric(generic);
        Assert.Equal(new FileStatus(0x2A, 777, 1, 0x8180, 1000, 100, 1 << 20), decoded);
        Assert.Equal(0x180, decoded.Permissions);
    }

    /// <summary>The native layout of this process's architecture (x64 here, arm64 under qemu) against .NET's own stat.</summary>
    [SysVFact]
    public void Native_stat_agrees_with_what_dotnet_reports_for_the_same_dev_shm_file()
    {
        var name = UniqueName();
        var fd = PosixSharedMemory.Create(name, 12288, out _);
        try
        {
            Assert.True(PosixSharedMemory.TryStat(fd, out var status, out _));
            var file = new FileInfo("/dev/shm" + name);
            Assert.Equal(file.Length, status.Size);
            Assert.Equal((int)file.UnixFileMode, status.Permissions);
            Assert.True((status.Mode & 0xF000) == 0x8000, $"st_mode {status.Mode:x}: not S_IFREG, the layout is wrong");
        }
        finally
        {
            PosixSharedMemory.Close(fd);
            PosixSharedMemory.Unlink(name);
        }
    }
}
