using System;
using BenchmarkDotNet.Attributes;
using StackExchange.Redis;

namespace Memalloc.Benchmarks;

/// <summary>Redis on 127.0.0.1 through StackExchange.Redis (synchronous calls: one round trip each).</summary>
public class RedisBenchmarks
{
    /// <summary>host:port of the redis-server the task started; set by Program before the run.</summary>
    public const string EndpointVariable = "MEMALLOC_BENCH_REDIS";

    private ConnectionMultiplexer? _connection;
    private IDatabase? _database;
    private RedisKey _key;
    private byte[] _value = [];

    [ParamsSource(nameof(SizeValues))]
    public int Size { get; set; }

    public static int[] SizeValues => Sizes.Values;

    [GlobalSetup]
    public void Setup()
    {
        var endpoint = Environment.GetEnvironmentVariable(EndpointVariable)
            ?? throw new InvalidOperationException($"{EndpointVariable} is not set.");
        _connection = ConnectionMultiplexer.Connect(endpoint + ",abortConnect=false,syncTimeout=10000");
        _database = _connection.GetDatabase();
        _key = Sizes.NewStoreName();
        _value = Sizes.RandomValue(Size, Size);
        _database.StringSet(_key, _value);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _database?.KeyDelete(_key);
        _connection?.Dispose();
    }

    [Benchmark]
    public bool Set() => _database!.StringSet(_key, _value);

    [Benchmark]
    public byte[]? Get() => _database!.StringGet(_key);

    [Benchmark]
    public byte[]? SetGet()
    {
        _database!.StringSet(_key, _value);
        return _database.StringGet(_key);
    }
}
