using System;
using System.Collections.Concurrent;
using System.Linq;
using Memalloc.Core;
using Memalloc.Core.Backends;
using StackExchange.Redis;

namespace Memalloc.Redis;

/// <summary>
/// The entry point the module creates (by reflection, in the Redis AssemblyLoadContext). One ConnectionMultiplexer per
/// server and credentials for the life of the process, shared by its stores and runspaces, as StackExchange.Redis
/// intends; it reconnects by itself after a server restart.
/// </summary>
public sealed class RedisBackend : IRedisBackend
{
    /// <summary>The oldest server with every command the stores use (ZRANGE BYSCORE, BLMOVE, SET ... GET).</summary>
    private static readonly Version s_minimumVersion = new(6, 2);

    private readonly ConcurrentDictionary<(string, string?, string?), Lazy<ConnectionMultiplexer>> _connections = new();

    public IStackStore Open(RedisStoreSettings settings)
    {
        var connection = _connections.GetOrAdd((settings.Configuration, settings.User, settings.Password),
            _ => new Lazy<ConnectionMultiplexer>(() => Connect(settings, abortOnFailure: false))).Value;
        return new RedisStackStore(connection.GetDatabase(), settings, DescribeServer(settings));
    }

    public string Check(RedisStoreSettings settings)
    {
        var server = DescribeServer(settings);
        try
        {
            using var connection = Connect(settings, abortOnFailure: true);
            var endpoint = connection.GetEndPoints().First();
            var node = connection.GetServer(endpoint);
            if (node.Version < s_minimumVersion)
            {
                throw new MemStoreException(MemStoreErrorKind.NotSupported,
                    $"The server of store '{settings.StoreName}' ({server}) is version {node.Version}; Redis stores need {s_minimumVersion} or later.");
            }

            var lua = connection.GetDatabase().ScriptEvaluate("return 1", [new RedisKey($"{settings.KeyPrefix}{{{settings.StoreName}}}:check")]);
            if ((int)lua != 1)
            {
                throw new MemStoreException(MemStoreErrorKind.NotSupported, $"The server of store '{settings.StoreName}' ({server}) does not run Lua scripts.");
            }

            return $"Redis {node.Version} ({node.ServerType}) at {server}";
        }
        catch (Exception e) when (RedisFailures.IsRedis(e))
        {
            throw RedisFailures.From(e, settings.StoreName, server, settings.Password);
        }
    }

    public string DescribeServer(RedisStoreSettings settings) => string.Join(",", Parse(settings).EndPoints.Select(EndPointText));

    public bool Destroy(RedisStoreSettings settings)
    {
        using var store = (RedisStackStore)Open(settings);
        return store.DestroyData();
    }

    private static string EndPointText(System.Net.EndPoint endPoint) => endPoint switch
    {
        System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? string.Empty,
    };

    /// <summary>The connection string's options; one that StackExchange.Redis cannot read (or that names no server) is
    /// InvalidArgument, its text never repeated (it may hold a password).</summary>
    private static ConfigurationOptions Parse(RedisStoreSettings settings)
    {
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(settings.Configuration);
        }
        catch (ArgumentException e)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument,
                $"The connection string of store '{settings.StoreName}' is not one StackExchange.Redis reads ({e.GetType().Name}).", e);
        }

        if (options.EndPoints.Count == 0)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument,
                $"The connection string of store '{settings.StoreName}' names no server (host:port).");
        }

        return options;
    }

    private static ConnectionMultiplexer Connect(RedisStoreSettings settings, bool abortOnFailure)
    {
        var options = Parse(settings);

        // A command fails within its timeout while the server is away, and works again when it is back (no abort).
        options.AbortOnConnectFail = abortOnFailure;
        options.ClientName ??= "memalloc";
        if (settings.User is not null)
        {
            options.User = settings.User;
        }

        if (settings.Password is not null)
        {
            options.Password = settings.Password;
        }

        return ConnectionMultiplexer.Connect(options);
    }
}
