using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;
using Memalloc.Core;
using Memalloc.Core.Backends;

namespace Memalloc.Registration;

/// <summary>
/// Loads the Redis backend (Memalloc.Redis and StackExchange.Redis, from the module's redis/ folder) into an
/// AssemblyLoadContext of its own, the first time a registered store is used, and never before: PowerShell's pattern for
/// dependencies that may conflict with another module's (docs/redis-design.md, "Packaging").
/// </summary>
internal static class RedisBackendLoader
{
    private static readonly Lazy<IRedisBackend> s_backend = new(Load);

    public static IRedisBackend Backend => s_backend.Value;

    private static IRedisBackend Load()
    {
        var folder = Path.Combine(Path.GetDirectoryName(typeof(RedisBackendLoader).Assembly.Location) ?? ".", "redis");
        var path = Path.Combine(folder, "Memalloc.Redis.dll");
        if (!File.Exists(path))
        {
            throw new MemStoreException(MemStoreErrorKind.NotSupported, $"The Redis backend is missing from this module ({path}); reinstall Memalloc.");
        }

        var assembly = new RedisLoadContext(folder).LoadFromAssemblyPath(path);
        var type = assembly.GetType("Memalloc.Redis.RedisBackend", throwOnError: true)!;
        return (IRedisBackend)Activator.CreateInstance(type)!;
    }

    /// <summary>Resolves from the redis/ folder first; what is not there (Memalloc.Core, the framework) from the default
    /// context, so the contract types are the same on both sides.</summary>
    private sealed class RedisLoadContext(string folder) : AssemblyLoadContext("Memalloc.Redis")
    {
        protected override Assembly? Load(AssemblyName assemblyName)
        {
            var candidate = Path.Combine(folder, assemblyName.Name + ".dll");
            return File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
        }
    }
}
