using System;
using System.IO;
using System.Threading;
using BenchmarkDotNet.Attributes;
using Memalloc.Core;
using Microsoft.Win32.SafeHandles;

namespace Memalloc.Benchmarks;

/// <summary>
/// Issue 13 in one process, uncontended: a named lock taken and given back (beside a named Mutex and flock(2)), a queue
/// item sent and received, and a 16-byte write with nobody waiting and with a waiter registered on the write's wait
/// bucket (another thread, sleeping on a name of the same bucket: each write then makes one wake system call).
/// Wall clock: the waiter's cost is a system call and another thread's wake-up.
/// </summary>
public class CoordinationBenchmarks
{
    private static readonly byte[] s_value = new byte[16];
    private string _storeName = string.Empty;
    private MemStore? _store;
    private Mutex? _mutex;
    private SafeFileHandle? _file;
    private string _filePath = string.Empty;
    private CancellationTokenSource? _stopWaiter;
    private Thread? _waiter;

    [GlobalSetup]
    public void Setup()
    {
        _storeName = Sizes.NewStoreName();
        _store = MemStore.Open(_storeName);
        _store.Set("written", s_value);
        _mutex = new Mutex(false, "memalloc-" + _storeName);
        _filePath = Path.Combine(Path.GetTempPath(), "memalloc-" + _storeName + ".lock");
        _file = FileLock.Open(_filePath);
    }

    [GlobalSetup(Target = nameof(WriteWithWaiter))]
    public void SetupWaiter()
    {
        Setup();
        var bucket = WaitBuckets.IndexOf(StackName.Hash("written"));
        var other = 0;
        while (WaitBuckets.IndexOf(StackName.Hash("quiet-" + other)) != bucket)
        {
            other++;
        }

        _stopWaiter = new CancellationTokenSource();
        var name = "quiet-" + other;
        _waiter = new Thread(() =>
        {
            try
            {
                _store!.WaitForChange(name, 0, Timeout.InfiniteTimeSpan, _stopWaiter.Token, out _);
            }
            catch (OperationCanceledException)
            {
            }
        });
        _waiter.Start();
        SpinWait.SpinUntil(() => _store!.GetStatistics().Waiters == 1, TimeSpan.FromSeconds(30));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stopWaiter?.Cancel();
        _waiter?.Join();
        _store?.Dispose();
        MemStore.DestroyStore(_storeName);
        _mutex?.Dispose();
        _file?.Dispose();
        File.Delete(_filePath);
    }

    [Benchmark]
    public long LockRelease()
    {
        using var held = _store!.AcquireLock("bench", 1, TimeSpan.Zero)!;
        return held.Token;
    }

    [Benchmark]
    public bool NamedMutex()
    {
        var taken = _mutex!.WaitOne();
        _mutex.ReleaseMutex();
        return taken;
    }

    [Benchmark]
    public void Flock()
    {
        FileLock.Take(_file!);
        FileLock.Release(_file!);
    }

    [Benchmark]
    public int SendReceive()
    {
        _store!.Send("queue", s_value);
        return _store.Receive("queue", 1).Count;
    }

    [Benchmark]
    public long WriteNoWaiter() => _store!.Set("written", s_value);

    [Benchmark]
    public long WriteWithWaiter() => _store!.Set("written", s_value);
}
