using System;
using BenchmarkDotNet.Attributes;
using StackExchange.Redis;

namespace Memalloc.Benchmarks;

/// <summary>Redis on 127.0.0.1 through StackExchange.Redis (synchronous calls: one round trip each).</summary>
public class RedisBenchmarks
{
    /// <summary>host:port of the redis-server the task started; set by Program before the run.</summary>
    public const string EndpointVariable = "MEMALLOC_BENCH_REDIS";

    private ConnectionMultiplexer? connection;
    private IDatabase? database;
    private RedisKey key;
    private byte[] value = [];

    [ParamsSource(nameof(SizeValues))]
    public int Size { get; set; }

    public static int[] SizeValues => Sizes.Values;

    [GlobalSetup]
    public void Setup()
    {
        var endpoint = Environment.GetEnvironmentVariable(EndpointVariable)
            ?? throw new InvalidOperationException($"{EndpointVariable} is not set.");
        connection = ConnectionMultiplexer.Connect(endpoint + ",abortConnect=false,syncTimeout=10000");
        database = connection.GetDatabase();
        key = Sizes.NewStoreName();
        value = Sizes.RandomValue(Size, Size);
        database.StringSet(key, value);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        database?.KeyDelete(key);
        connection?.Dispose();
    }

    [Benchmark]
    public bool Set() => database!.StringSet(key, value);

    [Benchmark]
    public byte[]? Get() => database!.StringGet(key);

    [Benchmark]
    public byte[]? SetGet()
    {
        database!.StringSet(key, value);
        return database.StringGet(key);
    }
}
