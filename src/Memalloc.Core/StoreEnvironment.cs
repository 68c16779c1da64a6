using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>What the machine allows and where its traps are: the default maximum capacity, and the persistence
/// warnings of <see cref="StoreStatistics.Warnings"/> (systemd RemoveIPC, a private IPC namespace, WSL1).</summary>
internal static class StoreEnvironment
{
    /// <summary>/proc/self/ns/ipc of the initial IPC namespace (PROC_IPC_INIT_INO in the kernel).</summary>
    private const string InitialIpcNamespace = "ipc:[4026531839]";

    /// <summary>Maximum capacity for a new store whose arenas have <paramref name="backing"/>: the option, else
    /// MEMALLOC_MAX_CAPACITY, else <see cref="DefaultMaxCapacity"/>.</summary>
    internal static long MaxCapacityFor(MemStoreOptions options, ArenaBacking backing)
    {
        if (options.MaxCapacity is { } configured)
        {
            if (!Layout.IsValidMaxCapacity(configured))
            {
                throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"MaxCapacity must be {Layout.MinArenaCapacity} to {Layout.MaxCapacityLimit} bytes; it was {configured}.");
            }

            return configured;
        }

        var fromEnvironment = Environment.GetEnvironmentVariable("MEMALLOC_MAX_CAPACITY");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            if (!TryParseSize(fromEnvironment, out var size) || !Layout.IsValidMaxCapacity(size))
            {
                throw new MemStoreException(MemStoreErrorKind.InvalidArgument,
                    $"MEMALLOC_MAX_CAPACITY='{fromEnvironment}' is not a size of {Layout.MinArenaCapacity} to {Layout.MaxCapacityLimit} bytes (a number of bytes, optionally with K, M or G).");
            }

            return size;
        }

        return DefaultMaxCapacity(backing, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, SystemVLimits.Read(Procfs.KernelSetting), PosixSpaceBytes());
    }

    /// <summary>
    /// The largest arena a new store may grow to when nobody says otherwise: half the memory (at least 64 MiB), within what
    /// the backing's real limits allow for two arenas at once (a growth holds both for a moment). System V: at most shmmax
    /// and half of shmall (Linux kernel.shm*, macOS kern.sysv.*). POSIX: on Linux at most half of /dev/shm (a tmpfs: its
    /// size, <paramref name="posixSpace"/>); macOS backs the objects with memory alone.
    /// </summary>
    internal static long DefaultMaxCapacity(ArenaBacking backing, long memory, SystemVLimits limits, long? posixSpace)
    {
        var maximum = Math.Max(memory / 2, 64L << 20);
        if (backing == ArenaBacking.SystemV)
        {
            maximum = Math.Min(maximum, Math.Min(limits.MaxSegmentBytes, limits.TotalBytes / 2));
        }
        else if (posixSpace is { } space)
        {
            maximum = Math.Min(maximum, space / 2);
        }

        return Math.Clamp(maximum, Layout.MinArenaCapacity, Layout.MaxCapacityLimit);
    }

    /// <summary>Bytes of /dev/shm, where Linux keeps POSIX shared memory objects (statvfs, through DriveInfo); null on macOS
    /// or when it cannot be read.</summary>
    private static long? PosixSpaceBytes()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return new DriveInfo("/dev/shm").TotalSize;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    internal static bool TryParseSize(string text, out long size)
    {
        text = text.Trim();
        long multiplier = 1;
        if (text.Length > 0 && char.ToUpperInvariant(text[^1]) is 'K' or 'M' or 'G')
        {
            multiplier = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, _ => 1L << 30 };
            text = text[..^1];
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number <= long.MaxValue / multiplier)
        {
            size = number * multiplier;
            return true;
        }

        size = 0;
        return false;
    }

    internal static IReadOnlyList<string> Warnings(uint uid)
    {
        var warnings = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            return warnings;
        }

        if (uid >= 1000 && Directory.Exists("/run/systemd/system") && RemoveIpcEnabled())
        {
            warnings.Add("systemd-logind removes this user's System V segments when the user's last session ends (RemoveIPC is not 'no' in logind.conf): " +
                "stores vanish at logout. Set RemoveIPC=no, enable lingering (loginctl enable-linger), or use a system account.");
        }

        if (Procfs.IpcNamespace is { } link && link != InitialIpcNamespace)
        {
            warnings.Add($"This process runs in a private IPC namespace ({link}), as containers do: its stores are invisible to processes outside it " +
                "(start the container with --ipc=host to share them) and vanish with the namespace.");
        }

        if (Procfs.KernelRelease?.Contains("Microsoft", StringComparison.Ordinal) == true)
        {
            warnings.Add("This looks like WSL1, which has no System V shared memory; use WSL2.");
        }

        return warnings;
    }

    /// <summary>logind's RemoveIPC, which defaults to yes: the last setting in logind.conf and its drop-ins wins.</summary>
    private static bool RemoveIpcEnabled()
    {
        var enabled = true;
        var files = new List<string> { "/etc/systemd/logind.conf", "/usr/lib/systemd/logind.conf" };
        foreach (var directory in new[] { "/usr/lib/systemd/logind.conf.d", "/etc/systemd/logind.conf.d", "/run/systemd/logind.conf.d" })
        {
            if (Directory.Exists(directory))
            {
                var dropIns = Directory.GetFiles(directory, "*.conf");
                Array.Sort(dropIns, StringComparer.Ordinal);
                files.AddRange(dropIns);
            }
        }

        foreach (var file in files)
        {
            try
            {
                if (!File.Exists(file))
                {
                    continue;
                }

                foreach (var line in File.ReadLines(file))
                {
                    var trimmed = line.Trim();
                    if (trimmed.StartsWith("RemoveIPC=", StringComparison.Ordinal))
                    {
                        var value = trimmed["RemoveIPC=".Length..].Trim();
                        enabled = !(value.Equals("no", StringComparison.OrdinalIgnoreCase) || value == "0"
                            || value.Equals("false", StringComparison.OrdinalIgnoreCase) || value.Equals("off", StringComparison.OrdinalIgnoreCase));
                    }
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return enabled;
    }
}
