namespace Memalloc.Core.Backends;

/// <summary>The entry point of Memalloc.Redis, created in its own AssemblyLoadContext (docs/redis-design.md, "Packaging").</summary>
public interface IRedisBackend
{
    /// <summary>The store on the server(s) the settings name; connections are shared by the stores of one server.</summary>
    IStackStore Open(RedisStoreSettings settings);

    /// <summary>Connects, and checks the server's version and Lua; returns a description such as "Redis 7.0.15 at
    /// 127.0.0.1:6379". A failure is a MemStoreException (ConnectionFailed, PermissionDenied, NotSupported...).</summary>
    string Check(RedisStoreSettings settings);

    /// <summary>The connection string without its password, for display.</summary>
    string DescribeServer(RedisStoreSettings settings);

    /// <summary>Deletes every key of the store except its version sequence; false when it held no stack.</summary>
    bool Destroy(RedisStoreSettings settings);
}
