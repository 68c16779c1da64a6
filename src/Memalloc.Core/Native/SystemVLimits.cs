using System;
using System.Collections.Generic;
using System.Globalization;

namespace Memalloc.Core.Native;

/// <summary>
/// The kernel's System V shared memory limits as they are, read, never guessed: Linux /proc/sys/kernel/shm* (per IPC
/// namespace), macOS the kern.sysv.* sysctls. A value the kernel does not give is <see cref="long.MaxValue"/> (no
/// limit known: Linux has no per-process attachment limit).
/// </summary>
internal sealed record SystemVLimits(long MaxSegmentBytes, long TotalPages, long PageSize, long MaxSegments, long MaxAttachmentsPerProcess)
{
    /// <summary>Test-only (documented as such): makes this process behave as if <c>kern.sysv.shmseg</c> were this number,
    /// shmat failing with EMFILE past it, as macOS does. Linux has no such limit to lower; the emulated-Mac pass sets it.</summary>
    internal const string TestAttachmentLimitVariable = "MEMALLOC_TEST_SHMSEG";

    /// <summary>Bytes all segments together may use (shmall pages).</summary>
    internal long TotalBytes => TotalPages >= long.MaxValue / Math.Max(1, PageSize) ? long.MaxValue : TotalPages * PageSize;

    /// <summary>The emulated per-process attachment limit, or null when none is set (or it is not a positive number).</summary>
    internal static int? TestAttachmentLimit()
    {
        var text = Environment.GetEnvironmentVariable(TestAttachmentLimitVariable);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit > 0 ? limit : null;
    }

    /// <summary>The limits of the running kernel (on Linux, of this process's IPC namespace).</summary>
    internal static SystemVLimits Read(Func<string, long?> readLinuxSetting)
    {
        long page = Environment.SystemPageSize;
        if (OperatingSystem.IsMacOS())
        {
            return new SystemVLimits(
                Darwin("kern.sysv.shmmax"), Darwin("kern.sysv.shmall"), page, Darwin("kern.sysv.shmmni"),
                Math.Min(Darwin("kern.sysv.shmseg"), TestAttachmentLimit() ?? long.MaxValue));
        }

        return new SystemVLimits(
            readLinuxSetting("shmmax") ?? long.MaxValue, readLinuxSetting("shmall") ?? long.MaxValue, page,
            readLinuxSetting("shmmni") ?? long.MaxValue, TestAttachmentLimit() ?? long.MaxValue);

        static long Darwin(string name) => DarwinSysctl.TryReadInt64(name, out var value) == 0 && value >= 0 ? value : long.MaxValue;
    }

    /// <summary>What a user reads in an error when System V limits are the reason: the settings and the command that
    /// raises them (macOS: kern.sysv.*, with sysctl; Linux: kernel.shm*, with sysctl or /proc/sys/kernel).</summary>
    internal static string Hint(params SystemVSetting[] settings)
    {
        var mac = OperatingSystem.IsMacOS();
        var named = new List<string>();
        var commands = new List<string>();
        var notes = new List<string>();
        foreach (var setting in settings)
        {
            var (name, example, meaning) = setting switch
            {
                SystemVSetting.MaxSegmentBytes => ("shmmax", "1073741824", "the largest segment, in bytes"),
                SystemVSetting.TotalPages => ("shmall", "262144", "all segments together, in pages"),
                SystemVSetting.MaxSegments => ("shmmni", "256", "segments on the machine"),
                _ => ("shmseg", "64", "segments attached by one process"),
            };
            if (!mac && setting == SystemVSetting.MaxAttachmentsPerProcess)
            {
                notes.Add($"The limit on {meaning} ({TestAttachmentLimitVariable}, a test-only setting emulating macOS's kern.sysv.shmseg) was reached.");
                continue;
            }

            var qualified = (mac ? "kern.sysv." : "kernel.") + name;
            named.Add($"{qualified} ({meaning})");
            commands.Add($"{qualified}={example}");
            if (mac && setting == SystemVSetting.MaxSegments)
            {
                notes.Add("kern.sysv.shmmni cannot change once System V shared memory is in use: put it in /etc/sysctl.conf and restart.");
            }
        }

        var text = named.Count == 0 ? string.Empty
            : $"The limit is {string.Join(" or ", named)}; raise {(named.Count == 1 ? "it" : "them")} with 'sudo sysctl -w {string.Join(' ', commands)}'" +
              (mac ? "." : " (or /proc/sys/kernel/).");
        notes.Insert(0, text);
        return string.Join(' ', notes.FindAll(note => note.Length > 0));
    }
}
