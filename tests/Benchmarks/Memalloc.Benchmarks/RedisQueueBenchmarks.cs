using System;
using BenchmarkDotNet.Attributes;
using StackExchange.Redis;

namespace Memalloc.Benchmarks;

/// <summary>A Redis list used as a queue (LPUSH, then RPOP), the peer of Send-MemQueue and Receive-MemQueue.</summary>
public class RedisQueueBenchmarks
{
    private static readonly byte[] s_value = new byte[16];
    private ConnectionMultiplexer? _connection;
    private IDatabase? _database;
    private RedisKey _key;

    [GlobalSetup]
    public void Setup()
    {
        var endpoint = Environment.GetEnvironmentVariable(RedisBenchmarks.EndpointVariable)
            ?? throw new InvalidOperationException($"{RedisBenchmarks.EndpointVariable} is not set.");
        _connection = ConnectionMultiplexer.Connect(endpoint + ",abortConnect=false,syncTimeout=10000");
        _database = _connection.GetDatabase();
        _key = Sizes.NewStoreName();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _database?.KeyDelete(_key);
        _connection?.Dispose();
    }

    [Benchmark]
    public byte[]? SendReceive()
    {
        _database!.ListLeftPush(_key, s_value);
        return _database.ListRightPop(_key);
    }
}
