namespace Memalloc.Core.Backends;

/// <summary>What a registration says about one Redis store: everything the Redis backend needs to reach and sign it.</summary>
public sealed class RedisStoreSettings
{
    /// <summary>The store's name (and the hash tag of its keys).</summary>
    public required string StoreName { get; init; }

    /// <summary>A StackExchange.Redis connection string ("host:port,ssl=true,..."); may hold a password.</summary>
    public required string Configuration { get; init; }

    /// <summary>The ACL user of -Credential, or null.</summary>
    public string? User { get; init; }

    /// <summary>The password of -Credential, or null.</summary>
    public string? Password { get; init; }

    /// <summary>Prefix of every key of the store (no braces).</summary>
    public required string KeyPrefix { get; init; }

    /// <summary>The HMAC-SHA256 key values are signed with; null for an unsigned store.</summary>
    public byte[]? SigningKey { get; init; }
}
