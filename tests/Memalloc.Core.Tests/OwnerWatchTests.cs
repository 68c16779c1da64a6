using System;
using System.Diagnostics;
using Memalloc.Core.Native;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>The cheap liveness test a lock waiter repeats (<see cref="OwnerWatch"/>, a pidfd on Linux).</summary>
public class OwnerWatchTests
{
    [Fact]
    public void A_watched_holder_is_alive_until_it_is_killed_and_a_reused_word_is_checked_in_full()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        var word = ((ulong)WriterLock.StartTimeToken(child.Id) << 32) | (uint)child.Id;
        using var watch = new OwnerWatch();
        Assert.False(watch.IsDead(word));
        Assert.False(watch.IsDead(word)); // the second look is the pidfd's poll on Linux
        if (OperatingSystem.IsLinux())
        {
            using var pidfd = LinuxPidfd.Open(child.Id);
            Assert.NotNull(pidfd); // the kernels this runs on have pidfd_open (5.3+)
            Assert.False(LinuxPidfd.HasExited(pidfd!));
        }

        child.Kill();
        child.WaitForExit();
        Assert.True(watch.IsDead(word));
        Assert.False(watch.IsDead(WriterLock.OwnWord)); // this process's other runspaces are alive by definition
        if (OperatingSystem.IsLinux())
        {
            // This process's pid with another start time: a reused pid, found by the full test before any pidfd is trusted.
            Assert.True(watch.IsDead(WriterLock.OwnWord ^ (1UL << 32)));
        }
    }
}
