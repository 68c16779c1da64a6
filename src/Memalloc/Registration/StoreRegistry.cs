using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Threading;
using Memalloc.Core;

namespace Memalloc.Registration;

/// <summary>
/// The current user's registered Redis stores: one JSON file, 0600, in a 0700 folder under the user's configuration
/// folder ($XDG_CONFIG_HOME/memalloc, else ~/.config/memalloc), as SecretManagement keeps its vault registry. Read again
/// only when its size or time changed (looked at no more than every 250 ms); changed under an exclusive lock, through a temporary file and a rename.
/// </summary>
internal static class StoreRegistry
{
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateFolder = PrivateFile | UnixFileMode.UserExecute;
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };
    private static readonly object s_gate = new();
    private static Snapshot s_snapshot = new(string.Empty, default, -1, new Dictionary<string, StoreRegistration>(StringComparer.Ordinal), 0);

    /// <summary>How long a process trusts what it read before it looks at the file again: a command makes several store
    /// calls, and one stat each would be most of what the registry costs the shared-memory path. Changes made by this
    /// process are seen at once; another process's within this time.</summary>
    private const long RecheckMilliseconds = 250;

    /// <summary>The registration file's path for this process's environment.</summary>
    public static string FilePath
    {
        get
        {
            var configHome = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            if (string.IsNullOrEmpty(configHome) || !Path.IsPathRooted(configHome))
            {
                configHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            }

            return Path.Combine(configHome, "memalloc", "stores.json");
        }
    }

    /// <summary>The registration of a store name; null when it is not registered (a shared-memory store).</summary>
    public static StoreRegistration? Find(string storeName) => Current().TryGetValue(storeName, out var found) ? found : null;

    /// <summary>Every registration, by name.</summary>
    public static IReadOnlyDictionary<string, StoreRegistration> All() => Current();

    /// <summary>Adds or replaces a registration.</summary>
    public static void Save(StoreRegistration registration) => Change(all => all[registration.Name] = registration);

    /// <summary>Forgets a registration; false when there was none.</summary>
    public static bool Remove(string storeName)
    {
        var removed = false;
        Change(all => removed = all.Remove(storeName));
        return removed;
    }

    private static Dictionary<string, StoreRegistration> Current()
    {
        var path = FilePath;
        var snapshot = Volatile.Read(ref s_snapshot);
        var now = Environment.TickCount64;
        if (snapshot.Path == path && now - snapshot.CheckedAt < RecheckMilliseconds)
        {
            return snapshot.Stores;
        }

        var file = new FileInfo(path);
        var exists = file.Exists;
        if (exists)
        {
            RefuseShared(path, file); // every look, from the same stat: a chmod changes neither size nor time
        }

        var length = exists ? file.Length : -1;
        var written = exists ? file.LastWriteTimeUtc : default;
        var stores = snapshot.Path == path && snapshot.Length == length && snapshot.Written == written ? snapshot.Stores
            : exists ? Read(path) : new Dictionary<string, StoreRegistration>(StringComparer.Ordinal);
        Volatile.Write(ref s_snapshot, new Snapshot(path, written, length, stores, now));
        return stores;
    }

    private static Dictionary<string, StoreRegistration> Read(string path)
    {
        try
        {
            RefuseShared(path, new FileInfo(path));
            var list = JsonSerializer.Deserialize<List<StoreRegistration>>(File.ReadAllText(path), s_json) ?? [];
            var stores = new Dictionary<string, StoreRegistration>(StringComparer.Ordinal);
            foreach (var registration in list)
            {
                stores[registration.Name] = registration;
            }

            return stores;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new MemStoreException(MemStoreErrorKind.Corrupt, $"The store registrations '{path}' cannot be read: {e.Message}", e);
        }
    }

    private static void RefuseShared(string path, FileInfo file)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(); // the module refuses Windows at import
        }

        if ((file.UnixFileMode & ~PrivateFile) != 0)
        {
            throw new MemStoreException(MemStoreErrorKind.PermissionDenied,
                $"The store registrations '{path}' can be read by other users: it holds passwords and signing keys, and is not used "
                + $"until it is private again (chmod 600 '{path}').");
        }
    }

    private static void Change(Action<Dictionary<string, StoreRegistration>> change)
    {
        var path = FilePath;
        var folder = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(); // the module refuses Windows at import
        }

        lock (s_gate)
        {
            Directory.CreateDirectory(folder, PrivateFolder);
            using var fileLock = TakeLock(path + ".lock");
            var stores = File.Exists(path) ? Read(path) : new Dictionary<string, StoreRegistration>(StringComparer.Ordinal);
            change(stores);
            var temporary = $"{path}.{Environment.ProcessId}.tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = PrivateFile };
            using (var stream = new FileStream(temporary, options))
            {
                JsonSerializer.Serialize(stream, new List<StoreRegistration>(stores.Values), s_json);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            Volatile.Write(ref s_snapshot, s_snapshot with { CheckedAt = long.MinValue / 2 }); // seen by this process at once
        }
    }

    /// <summary>An exclusive lock between processes (FileShare.None is an flock on Unix), waited for up to 10 s.</summary>
    private static FileStream TakeLock(string lockPath)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(); // the module refuses Windows at import
        }

        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None, UnixCreateMode = PrivateFile,
        };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(lockPath, options);
            }
            catch (IOException) when (attempt < 1000)
            {
                Thread.Sleep(10);
            }
        }
    }

    private sealed record Snapshot(string Path, DateTime Written, long Length, Dictionary<string, StoreRegistration> Stores, long CheckedAt);
}
