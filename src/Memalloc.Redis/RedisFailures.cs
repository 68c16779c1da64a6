using System;
using Memalloc.Core;
using StackExchange.Redis;

namespace Memalloc.Redis;

/// <summary>Turns what StackExchange.Redis throws into the core's failure kinds, with messages that name the server
/// (never a password), so that the cmdlets report Redis faults with the ids and categories they use everywhere.</summary>
internal static class RedisFailures
{
    public static MemStoreException From(Exception exception, string storeName, string server, string? password) => exception switch
    {
        RedisTimeoutException => new(MemStoreErrorKind.ConnectionFailed,
            Scrub($"The Redis server of store '{storeName}' ({server}) did not answer in time; a write may or may not have been "
                + $"applied. {exception.Message}", password), exception),
        RedisConnectionException when exception.Message.Contains("WRONGPASS", StringComparison.Ordinal)
            || exception.Message.Contains("NOAUTH", StringComparison.Ordinal) => new(MemStoreErrorKind.PermissionDenied,
            Scrub($"The Redis server of store '{storeName}' ({server}) refused the credentials: {exception.Message}", password), exception),
        RedisConnectionException => new(MemStoreErrorKind.ConnectionFailed,
            Scrub($"Cannot reach the Redis server of store '{storeName}' ({server}): {exception.Message}", password), exception),
        RedisServerException serverError when serverError.Message.StartsWith("OOM", StringComparison.Ordinal) => new(MemStoreErrorKind.CapacityExceeded,
            Scrub($"The Redis server of store '{storeName}' ({server}) is full (maxmemory): {exception.Message}", password), exception),
        RedisServerException serverError when serverError.Message.StartsWith("NOPERM", StringComparison.Ordinal)
            || serverError.Message.StartsWith("WRONGPASS", StringComparison.Ordinal)
            || serverError.Message.StartsWith("NOAUTH", StringComparison.Ordinal) => new(MemStoreErrorKind.PermissionDenied,
            Scrub($"The Redis server of store '{storeName}' ({server}) denied the command: {exception.Message}", password), exception),
        _ => new(MemStoreErrorKind.ServerError,
            Scrub($"The Redis server of store '{storeName}' ({server}) failed the command: {exception.Message}", password), exception),
    };

    /// <summary>Whether StackExchange.Redis threw it (everything else is a bug to surface as it is).</summary>
    public static bool IsRedis(Exception exception) => exception is RedisException or TimeoutException;

    private static string Scrub(string message, string? password) =>
        string.IsNullOrEmpty(password) ? message : message.Replace(password, "***", StringComparison.Ordinal);
}
