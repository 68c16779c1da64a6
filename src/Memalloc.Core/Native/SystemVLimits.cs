using System;
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

    /// <summary>What a user reads in an error when a System V limit is the reason: the setting and the command that
    /// raises it (macOS: kern.sysv.*, with sysctl; Linux: kernel.shm*, with sysctl or /proc/sys/kernel).</summary>
    internal static string Hint(SystemVSetting setting)
    {
        var mac = OperatingSystem.IsMacOS();
        var (name, example, meaning) = setting switch
        {
            SystemVSetting.MaxSegmentBytes => ("shmmax", "1073741824", "the largest segment, in bytes"),
            SystemVSetting.TotalPages => ("shmall", "262144", "all segments together, in pages"),
            SystemVSetting.MaxSegments => ("shmmni", "256", "segments on the machine"),
            _ => ("shmseg", "64", "segments attached by one process"),
        };
        if (!mac && setting == SystemVSetting.MaxAttachmentsPerProcess)
        {
            return $"The limit on {meaning} ({TestAttachmentLimitVariable}, a test-only setting) was reached.";
        }

        return mac
            ? $"The limit is kern.sysv.{name} ({meaning}); raise it with 'sudo sysctl -w kern.sysv.{name}={example}'."
            : $"The limit is kernel.{name} ({meaning}); raise it with 'sudo sysctl -w kernel.{name}={example}' (or /proc/sys/kernel/{name}).";
    }
}
