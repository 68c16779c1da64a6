using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using Memalloc.Core;
using Memalloc.Core.Backends;
using StackExchange.Redis;

namespace Memalloc.Redis;

/// <summary>
/// One store on a Redis server: reads are single commands (HMGET, EXISTS), writes one Lua script each, every value
/// signed and checked before it is handed out (docs/redis-design.md). The connection belongs to <see cref="RedisBackend"/>
/// and outlives the store; disposing a store lets go of nothing.
/// </summary>
public sealed partial class RedisStackStore : IStackStore
{
    // The fields of a stack's hash, in the order reads ask for them.
    private static readonly RedisValue[] s_entryFields = ["v", "t", "e", "c", "m", "x", "n", "h", "s", "k"];
    private static readonly RedisValue[] s_infoFields = ["s", "t", "e", "c", "m", "x", "n", "k", "q"];

    private readonly IDatabase _database;
    private readonly StoreKeys _keys;
    private readonly ValueSigner? _signer;
    private readonly string _server;
    private readonly string? _password;

    internal RedisStackStore(IDatabase database, RedisStoreSettings settings, string server)
    {
        _database = database;
        Name = settings.StoreName;
        _keys = new StoreKeys(settings.KeyPrefix, settings.StoreName);
        _signer = settings.SigningKey is { } key ? new ValueSigner(key, settings.StoreName) : null;
        _server = server;
        _password = settings.Password;
        KeyPrefix = settings.KeyPrefix;
        _events = new(() => new StoreEvents(database.Multiplexer, _keys.Events));
    }

    public string Name { get; }

    public string KeyPrefix { get; }

    public bool HasUpdateTurns => false;

    public bool TryGet(string name, out StackEntry? entry)
    {
        MemStore.ValidateName(name);
        var fields = Call(() => _database.HashGet(_keys.Stack(name), s_entryFields));
        if (fields[6].IsNull)
        {
            entry = null;
            return false;
        }

        if (IsQueue(fields[9]))
        {
            throw NameIsQueue(name);
        }

        var data = (byte[]?)fields[0] ?? [];
        var typeName = NullIfEmpty(fields[1]);
        var encoding = (int)fields[2];
        var expires = fields[5].IsNullOrEmpty ? -1 : (long)fields[5];
        if (_signer is not null && !_signer.IsValid((byte[]?)fields[7] ?? [], name, typeName, encoding, expires, data))
        {
            throw Untrusted(name);
        }

        entry = new StackEntry { Info = Info(name, (long)fields[8], typeName, encoding, fields[3], fields[4], fields[5], fields[6]), Data = data };
        return true;
    }

    public bool TryGetRented(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RentedStackEntry? entry)
    {
        entry = TryGet(name, out var read) ? RentedStackEntry.Unpooled(read!.Data, read.Info) : null;
        return entry is not null;
    }

    public StackInfo? GetInfo(string name)
    {
        MemStore.ValidateName(name);
        var fields = Call(() => _database.HashGet(_keys.Stack(name), s_infoFields));
        return InfoFrom(name, fields);
    }

    public bool Exists(string name)
    {
        MemStore.ValidateName(name);
        return Call(() => _database.KeyExists(_keys.Stack(name)));
    }

    public IReadOnlyList<string> ListNames()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var members = Call(() => _database.SortedSetRangeByScore(_keys.Names, now, double.PositiveInfinity, Exclude.Start));
        var names = new List<string>(members.Length);
        foreach (var member in members)
        {
            names.Add(member!);
        }

        names.Sort(StackNameOrder.Instance);
        return names;
    }

    public IReadOnlyList<StackInfo> List()
    {
        var names = ListNames();
        var pending = new List<System.Threading.Tasks.Task<RedisValue[]>>(names.Count);
        var batch = _database.CreateBatch();
        foreach (var name in names)
        {
            pending.Add(batch.HashGetAsync(_keys.Stack(name), s_infoFields));
        }

        batch.Execute();
        var infos = new List<StackInfo>(names.Count);
        for (var i = 0; i < names.Count; i++)
        {
            var index = i;
            if (InfoFrom(names[i], Call(() => pending[index].GetAwaiter().GetResult())) is { } info)
            {
                infos.Add(info); // a stack that expired or went away since the listing is not listed
            }
        }

        return infos;
    }

    public bool TrySet(string name, ReadOnlySpan<byte> value, in WriteOptions options, out long version)
    {
        MemStore.ValidateName(name);
        // The writer's clock stamps the write and starts its time to live, so that the signature covers the expiry and
        // Expires - Modified is the time to live exactly (docs/redis-design.md, "Writes").
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        version = Write(name, value.ToArray(), options.TypeName, options.Encoding, ExpiryMs(options, now), options.ExpectedVersion, now, restoredCreated: null);
        return version > 0;
    }

    /// <summary>Runs the write script (docs/redis-design.md, "Writes"): the new version, 0 when the expected version did
    /// not hold, -1 when a restored stack had expired.</summary>
    private long Write(string name, byte[] data, string? typeName, ValueEncoding encoding, long expires, long? expectedVersion,
        long modified, long? restoredCreated)
    {
        var signature = _signer?.Sign(name, typeName, (int)encoding, expires, data) ?? [];
        RedisValue[] arguments =
        [
            data,
            typeName ?? string.Empty,
            (int)encoding,
            expires < 0 ? string.Empty : expires.ToString(CultureInfo.InvariantCulture),
            expectedVersion is { } expected ? expected.ToString(CultureInfo.InvariantCulture) : string.Empty,
            signature,
            name,
            _keys.Events.ToString(),
            modified,
            restoredCreated is { } created ? created.ToString(CultureInfo.InvariantCulture) : string.Empty,
        ];
        RedisKey[] keys = [_keys.Stack(name), _keys.Sequence, _keys.Names, _keys.Queue(name)];
        var version = (long)Call(() => _database.ScriptEvaluate(StoreScripts.Set, keys, arguments));
        return version == -2 ? throw NameIsQueue(name) : version;
    }

    public bool Remove(string name, long? expectedVersion = null)
    {
        MemStore.ValidateName(name);
        RedisKey[] keys = [_keys.Stack(name), _keys.Names, _keys.Sequence, _keys.Queue(name)];
        RedisValue[] arguments =
        [
            expectedVersion is { } expected ? expected.ToString(CultureInfo.InvariantCulture) : string.Empty,
            name,
            _keys.Events.ToString(),
        ];
        return (long)Call(() => _database.ScriptEvaluate(StoreScripts.Remove, keys, arguments)) == 1;
    }

    public void EnsureNotRemoved()
    {
        // Every write was acknowledged by the server that holds the store: nothing to confirm afterwards.
    }

    public bool IsUpdateTurnBusy(string name) => false;

    public IDisposable? TakeUpdateTurn(string name, TimeSpan timeout, CancellationToken cancellation) =>
        throw new NotSupportedException("Redis stores have no update turns (docs/redis-design.md, \"Writes\").");

    public void Dispose()
    {
        // The connection is shared by every store of its server, for the life of the process.
    }

    /// <summary>Runs one call to the server; what StackExchange.Redis throws becomes a MemStoreException naming the server.</summary>
    internal T Call<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception e) when (RedisFailures.IsRedis(e))
        {
            throw RedisFailures.From(e, Name, _server, _password);
        }
    }

    private MemStoreException Untrusted(string name, string what = "Stack") => new(MemStoreErrorKind.UntrustedValue,
        $"{what} '{name}' in Redis store '{Name}' ({_server}) does not carry a valid signature of the store's key: it was "
        + "written by someone without the key (or with another one), and is not read. Remove it, or register the store "
        + "with the key its writers use.");

    private static long ExpiryMs(in WriteOptions options, long now)
    {
        if (options.TimeToLive is { } timeToLive)
        {
            if (timeToLive < TimeSpan.FromMilliseconds(1))
            {
                throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"A time to live must be at least 1 ms; it was {timeToLive}.");
            }

            return now + (long)Math.Ceiling(timeToLive.TotalMilliseconds);
        }

        if (options.Expires is { } expires)
        {
            var utc = expires.Kind == DateTimeKind.Local ? expires.ToUniversalTime() : DateTime.SpecifyKind(expires, DateTimeKind.Utc);
            return new DateTimeOffset(utc).ToUnixTimeMilliseconds();
        }

        return -1;
    }

    private StackInfo? InfoFrom(string name, RedisValue[] fields) =>
        fields[6].IsNull ? null : Info(name, (long)fields[0], NullIfEmpty(fields[1]), (int)fields[2], fields[3], fields[4], fields[5], fields[6],
            IsQueue(fields[7]) ? (long)fields[8] : null);

    /// <summary>The k field of a name's hash: 'q' for a queue's metadata, nothing for a stack.</summary>
    private static bool IsQueue(RedisValue kind) => kind == "q";

    private StackInfo Info(string name, long size, string? typeName, int encoding, RedisValue created, RedisValue modified,
        RedisValue expires, RedisValue version, long? queueCount = null) => new()
        {
            Name = name,
            Store = Name,
            Size = size,
            TypeName = typeName,
            Encoding = (ValueEncoding)encoding,
            Created = FromMs((long)created),
            Modified = FromMs((long)modified),
            Expires = expires.IsNullOrEmpty ? null : FromMs((long)expires),
            Version = (long)version,
            Kind = queueCount is null ? StackKind.Stack : StackKind.Queue,
            Count = queueCount ?? 1,
        };

    private static DateTime FromMs(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds).UtcDateTime;

    private static string? NullIfEmpty(RedisValue value) => value.IsNullOrEmpty ? null : (string?)value;
}
