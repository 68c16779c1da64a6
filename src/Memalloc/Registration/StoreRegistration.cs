using System;
using Memalloc.Core.Backends;

namespace Memalloc.Registration;

/// <summary>One registered Redis store, as the registration file keeps it (docs/redis-design.md, "Which backend").</summary>
public sealed class StoreRegistration
{
    public required string Name { get; init; }

    /// <summary>The StackExchange.Redis connection string as given (it may hold a password: never shown).</summary>
    public required string Configuration { get; init; }

    public string? User { get; init; }

    public string? Password { get; init; }

    public required string KeyPrefix { get; init; }

    /// <summary>The signing key, base64; null for a store registered -Unsigned.</summary>
    public string? SigningKey { get; init; }

    public DateTime Registered { get; init; }

    internal RedisStoreSettings ToSettings() => new()
    {
        StoreName = Name,
        Configuration = Configuration,
        User = User,
        Password = Password,
        KeyPrefix = KeyPrefix,
        SigningKey = SigningKey is null ? null : Convert.FromBase64String(SigningKey),
    };
}
