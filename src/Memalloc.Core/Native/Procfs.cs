using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Memalloc.Core.Native;

/// <summary>
/// Everything the store reads from Linux's /proc, parsed in one place: a process's state and start time
/// (/proc/&lt;pid&gt;/stat), the System V segments (/proc/sysvipc/shm), the kernel's limits (/proc/sys/kernel/shm*), the
/// IPC namespace and the kernel release. Every read answers null (or nothing) where the file is missing or unreadable:
/// macOS has no /proc, and a process may vanish between two reads.
/// </summary>
internal static class Procfs
{
    private const string SegmentsPath = "/proc/sysvipc/shm";

    /// <summary>Field 3 of /proc/&lt;pid&gt;/stat (R, S, Z, X...), or null when the process or the file is gone.</summary>
    internal static char? ProcessState(int pid) => ProcessStateAndStart(pid).State;

    /// <summary>Field 22 of /proc/&lt;pid&gt;/stat: the process's start time in clock ticks since boot; null when unknown.</summary>
    internal static ulong? ProcessStartTicks(int pid) => ProcessStateAndStart(pid).StartTicks;

    /// <summary>Fields 3 and 22 of /proc/&lt;pid&gt;/stat from one read of the file (a lock waiter asks every 50 ms).</summary>
    internal static (char? State, ulong? StartTicks) ProcessStateAndStart(int pid)
    {
        if (ReadText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat") is not { } stat)
        {
            return (null, null);
        }

        return (StatField(stat, 3) is { Length: > 0 } state ? state[0] : null,
            ulong.TryParse(StatField(stat, 22), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null);
    }

    /// <summary>Field <paramref name="field"/> (counted from 1, at least 3) of the text of a /proc/&lt;pid&gt;/stat. The
    /// command name (field 2) may hold spaces and parentheses: fields resume after its last ')'.</summary>
    private static string? StatField(string stat, int field)
    {
        var rest = stat.AsSpan(stat.LastIndexOf(')') + 1).Trim();
        for (var current = 3; current < field; current++)
        {
            var space = rest.IndexOf(' ');
            if (space < 0)
            {
                return null;
            }

            rest = rest[(space + 1)..];
        }

        var end = rest.IndexOf(' ');
        return (end < 0 ? rest : rest[..end]).ToString();
    }

    /// <summary>Every System V segment of this IPC namespace as /proc/sysvipc/shm lists it (none on macOS, which lists them
    /// through <see cref="DarwinSysctl.ListSegments"/>).</summary>
    internal static List<ProcSegment> SharedMemorySegments()
    {
        var result = new List<ProcSegment>();
        if (!OperatingSystem.IsLinux() || !File.Exists(SegmentsPath))
        {
            return result;
        }

        foreach (var line in File.ReadLines(SegmentsPath))
        {
            // key shmid perms size cpid lpid nattch uid gid cuid cgid ... (the header line fails to parse)
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 11
                && int.TryParse(fields[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var key)
                && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var shmId)
                && long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
                && int.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out var creatorPid)
                && long.TryParse(fields[6], NumberStyles.None, CultureInfo.InvariantCulture, out var attached)
                && uint.TryParse(fields[7], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
                && uint.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out var cuid))
            {
                result.Add(new ProcSegment(key, shmId, size, creatorPid, attached, uid, cuid));
            }
        }

        return result;
    }

    /// <summary>A number of /proc/sys/kernel/ (shmmax, shmall, shmmni: per IPC namespace), clamped to long; null when
    /// unreadable. The shape <see cref="SystemVLimits.Read"/> takes.</summary>
    internal static long? KernelSetting(string name) => ReadLong("/proc/sys/kernel/" + name);

    /// <summary>The link /proc/self/ns/ipc names, "ipc:[inode]": which IPC namespace this process is in.</summary>
    internal static string? IpcNamespace
    {
        get
        {
            try
            {
                return new FileInfo("/proc/self/ns/ipc").LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
    }

    /// <summary>The inode number in <see cref="IpcNamespace"/> ("ipc:[4026531839]" gives 4026531839); null when unknown.</summary>
    internal static ulong? IpcNamespaceInode =>
        IpcNamespace is { } link && link.StartsWith("ipc:[", StringComparison.Ordinal) && link.EndsWith(']')
        && ulong.TryParse(link.AsSpan(5, link.Length - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var inode) ? inode : null;

    /// <summary>/proc/sys/kernel/osrelease.</summary>
    internal static string? KernelRelease => ReadText("/proc/sys/kernel/osrelease");

    private static long? ReadLong(string path) =>
        ulong.TryParse(ReadText(path)?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? (value > long.MaxValue ? long.MaxValue : (long)value)
            : null;

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
