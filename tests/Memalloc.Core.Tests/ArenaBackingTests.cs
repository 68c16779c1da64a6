using System;
using Memalloc.Core.Native;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>The per-store choice of arena backing from the kernel's limits, and the names of POSIX arenas.</summary>
public class ArenaBackingTests
{
    private const long None = long.MaxValue;

    /// <summary>macOS's defaults (bsd/kern/sysv_shm.c: DEFAULT_SHMMAX 4 MiB, SHMALL 1024, SHMMNI 32, SHMSEG 8) are what the
    /// emulated-Mac pass reproduces on Linux (4 KiB pages, MEMALLOC_TEST_SHMSEG=8).</summary>
    [Theory]
    [InlineData("stock macOS x86_64", 4 << 20, 1024, 4096, 32, 8, false)]
    [InlineData("stock macOS arm64 (16 KiB pages)", 4 << 20, 1024, 16384, 32, 8, false)]
    [InlineData("stock Linux", long.MaxValue - (1L << 24), long.MaxValue - (1L << 24), 4096, 4096, None, true)]
    [InlineData("macOS raised for PostgreSQL, but 32 attachments", 1L << 30, 262144, 4096, 256, 32, false)]
    [InlineData("macOS raised generously", 1L << 30, 262144, 4096, 256, 64, true)]
    [InlineData("Linux with shmmax at 32 MiB", 32 << 20, None, 4096, 4096, None, false)]
    [InlineData("Linux with shmall at 64 MiB", 1L << 30, 16384, 4096, 4096, None, false)]
    [InlineData("Linux with shmmni at 32", None, None, 4096, 32, None, false)]
    public void Backing_follows_the_kernel_limits(string machine, long shmmax, long shmall, long page, long shmmni, long shmseg, bool systemV)
    {
        var chosen = ArenaBackingChoice.Choose(null, new SystemVLimits(shmmax, shmall, page, shmmni, shmseg));
        Assert.True(chosen == (systemV ? ArenaBacking.SystemV : ArenaBacking.Posix), $"{machine}: {chosen}");
    }

    [Theory]
    [InlineData("sysv", 4 << 20, true)]
    [InlineData(" POSIX ", None, false)]
    [InlineData("", 4 << 20, false)]
    [InlineData("", None, true)]
    public void MEMALLOC_ARENA_forces_the_backing_whatever_the_limits(string forced, long shmmax, bool systemV)
    {
        var chosen = ArenaBackingChoice.Choose(forced, new SystemVLimits(shmmax, None, 4096, None, None));
        Assert.Equal(systemV, chosen == ArenaBacking.SystemV);
    }

    [Fact]
    public void MEMALLOC_ARENA_with_another_value_is_an_error_naming_the_variable()
    {
        var e = Assert.Throws<MemStoreException>(() => ArenaBackingChoice.Choose("shm", new SystemVLimits(None, None, 4096, None, None)));
        Assert.Equal(MemStoreErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("MEMALLOC_ARENA='shm'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PosixArenaName_fits_macOS_and_parses_back()
    {
        var name = ArenaBackingChoice.PosixArenaName(-2, 0xDEADBEEF, uint.MaxValue);
        Assert.Equal("/ma.fffffffe.deadbeef.ffffffff", name);
        Assert.True(name.Length <= PosixSharedMemory.MaxNameLength);
        Assert.True(ArenaBackingChoice.TryParsePosixArenaName(name, out var key, out var nonce, out var number));
        Assert.Equal((-2, 0xDEADBEEFu, uint.MaxValue), (key, nonce, number));
        Assert.True(ArenaBackingChoice.TryParsePosixArenaName(name[1..], out key, out _, out _)); // as /dev/shm lists it
        Assert.Equal(-2, key);
    }

    [Theory]
    [InlineData("/ma.fffffffe.deadbeef.fffffff")]
    [InlineData("/ma.FFFFFFFE.deadbeef.ffffffff")]
    [InlineData("/mb.fffffffe.deadbeef.ffffffff")]
    [InlineData("/ma.fffffffe-deadbeef.ffffffff")]
    [InlineData("/ma.+ffffffe.deadbeef.ffffffff")]
    [InlineData("sem.ma.fffffffe.deadbeef.ffff")]
    public void Names_that_Memalloc_does_not_make_are_not_parsed(string name)
    {
        Assert.False(ArenaBackingChoice.TryParsePosixArenaName(name, out _, out _, out _));
    }

    [Fact]
    public void Limit_hints_name_the_setting_and_the_command_that_raises_it()
    {
        var hint = SystemVLimits.Hint(SystemVSetting.MaxSegmentBytes);
        Assert.Contains(OperatingSystem.IsMacOS() ? "sysctl -w kern.sysv.shmmax=" : "sysctl -w kernel.shmmax=", hint, StringComparison.Ordinal);
        Assert.Contains("shmall", SystemVLimits.Hint(SystemVSetting.TotalPages), StringComparison.Ordinal);
        Assert.Contains("shmmni", SystemVLimits.Hint(SystemVSetting.MaxSegments), StringComparison.Ordinal);
        Assert.Contains(OperatingSystem.IsMacOS() ? "kern.sysv.shmseg" : SystemVLimits.TestAttachmentLimitVariable,
            SystemVLimits.Hint(SystemVSetting.MaxAttachmentsPerProcess), StringComparison.Ordinal);
    }

    [Fact]
    public void Total_bytes_do_not_overflow_for_unlimited_shmall()
    {
        Assert.Equal(long.MaxValue, new SystemVLimits(None, None, 16384, None, None).TotalBytes);
        Assert.Equal(4L << 20, new SystemVLimits(None, 1024, 4096, None, None).TotalBytes);
    }

    [Fact]
    public void Shmat_EMFILE_is_a_capacity_error_naming_shmseg_not_a_segment_that_is_not_ours()
    {
        Assert.False(Libc.IsGone(Libc.EMFILE));
        Assert.Equal(MemStoreErrorKind.CapacityExceeded, Libc.Classify(Libc.EMFILE));
        var e = Libc.Failure("shmat", Libc.EMFILE, "Opening store 'x'");
        Assert.Equal(MemStoreErrorKind.CapacityExceeded, e.Kind);
        Assert.Contains(OperatingSystem.IsMacOS() ? "kern.sysv.shmseg" : SystemVLimits.TestAttachmentLimitVariable, e.Message, StringComparison.Ordinal);
        Assert.Equal(MemStoreErrorKind.CapacityExceeded, Libc.Failure("shmat", Libc.ENOMEM, "x").Kind);
        Assert.Equal(MemStoreErrorKind.CapacityExceeded, Libc.Failure("shmat", Libc.ENOSPC, "x").Kind);
        Assert.True(Libc.IsGone(Libc.EINVAL) && Libc.IsGone(Libc.EIDRM));
    }

    [Fact]
    public void Default_max_capacity_honours_the_backings_real_limits()
    {
        const long Memory = 16L << 30;
        var stockMac = new SystemVLimits(4L << 20, 1024, 4096, 32, 8);

        // System V under a stock Mac's limits: at most shmmax (4 MiB), and half of shmall's 4 MiB (two arenas during a growth).
        Assert.Equal(2L << 20, StoreEnvironment.DefaultMaxCapacity(ArenaBacking.SystemV, Memory, stockMac, posixSpace: null));
        // POSIX on a Mac: memory alone; on Linux, half of /dev/shm.
        Assert.Equal(8L << 30, StoreEnvironment.DefaultMaxCapacity(ArenaBacking.Posix, Memory, stockMac, posixSpace: null));
        Assert.Equal(1L << 30, StoreEnvironment.DefaultMaxCapacity(ArenaBacking.Posix, Memory, stockMac, posixSpace: 2L << 30));
        // Stock Linux System V: half the memory.
        Assert.Equal(8L << 30, StoreEnvironment.DefaultMaxCapacity(ArenaBacking.SystemV, Memory, new SystemVLimits(None, None, 4096, 4096, None), null));
    }
}
