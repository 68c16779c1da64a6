using System;
using System.Globalization;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>The per-store choice of <see cref="ArenaBacking"/> (docs/store-design.md, "Arena backing").</summary>
internal static class ArenaBackingChoice
{
    /// <summary>Forces the backing of stores this process creates: <c>sysv</c> or <c>posix</c>.</summary>
    internal const string Variable = "MEMALLOC_ARENA";

    /// <summary>A store of a useful size: its arenas may reach 64 MiB.</summary>
    internal const long UsefulArenaBytes = 64L << 20;

    /// <summary>Stores one process should be able to use at once; a System V store needs up to three segments and
    /// attachments (anchor, arena, spare or a growth's new arena).</summary>
    internal const int StoresPerSession = 16;

    private const int SegmentsPerStore = 3;

    /// <summary>The backing for a store this process creates now: <see cref="Variable"/>, else the kernel's limits (on
    /// Linux those of this process's IPC namespace).</summary>
    internal static ArenaBacking ForNewStore() =>
        Choose(Environment.GetEnvironmentVariable(Variable), SystemVLimits.Read(Procfs.KernelSetting));

    /// <summary>The backing for a new store: the variable when set, else System V when its budget holds
    /// <see cref="StoresPerSession"/> stores whose arenas reach <see cref="UsefulArenaBytes"/>, else POSIX.</summary>
    internal static ArenaBacking Choose(string? forced, SystemVLimits limits)
    {
        if (!string.IsNullOrWhiteSpace(forced))
        {
            return forced.Trim().ToUpperInvariant() switch
            {
                "SYSV" => ArenaBacking.SystemV,
                "POSIX" => ArenaBacking.Posix,
                _ => throw new MemStoreException(MemStoreErrorKind.InvalidArgument,
                    string.Create(CultureInfo.InvariantCulture, $"{Variable}='{forced}' is not 'sysv' or 'posix'.")),
            };
        }

        return SystemVFits(limits) ? ArenaBacking.SystemV : ArenaBacking.Posix;
    }

    /// <summary>True when System V can hold useful stores: one arena of <see cref="UsefulArenaBytes"/> per segment, two at
    /// once during a growth within shmall, and three segments (and attachments) for each of
    /// <see cref="StoresPerSession"/> stores.</summary>
    internal static bool SystemVFits(SystemVLimits limits) =>
        limits.MaxSegmentBytes >= UsefulArenaBytes
        && limits.TotalBytes >= 2 * UsefulArenaBytes
        && limits.MaxSegments >= SegmentsPerStore * StoresPerSession
        && limits.MaxAttachmentsPerProcess >= SegmentsPerStore * StoresPerSession;

    /// <summary>How every POSIX arena object's name starts (after the '/'), as /dev/shm lists them.</summary>
    internal const string PosixArenaPrefix = "ma.";

    /// <summary>The name of a POSIX arena object: <c>/ma.KKKKKKKK.NNNNNNNN.OOOOOOOO</c>, anchor key, name nonce and object
    /// number (the generation it was created for) as 8 hex digits: 30 characters, within macOS's 31 (PSHMNAMLEN).</summary>
    internal static string PosixArenaName(int anchorKey, uint nonce, uint objectNumber) =>
        string.Create(CultureInfo.InvariantCulture, $"/ma.{(uint)anchorKey:x8}.{nonce:x8}.{objectNumber:x8}");

    /// <summary>Parses a name made by <see cref="PosixArenaName"/> (with or without the leading '/', as /dev/shm lists
    /// it); false for any other name.</summary>
    internal static bool TryParsePosixArenaName(string name, out int anchorKey, out uint nonce, out uint objectNumber)
    {
        anchorKey = 0;
        nonce = objectNumber = 0;
        var text = name.AsSpan(name.StartsWith('/') ? 1 : 0);
        if (text.Length != 29 || !text.StartsWith("ma.") || text[11] != '.' || text[20] != '.')
        {
            return false;
        }

        if (!uint.TryParse(text[3..11], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var key)
            || !uint.TryParse(text[12..20], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out nonce)
            || !uint.TryParse(text[21..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out objectNumber))
        {
            return false;
        }

        anchorKey = unchecked((int)key);
        return PosixArenaName(anchorKey, nonce, objectNumber) == "/" + text.ToString(); // lowercase, no sign, no spaces
    }
}
