using System;
using System.Management.Automation;
using System.Threading;
using Memalloc.Core;
using Memalloc.Core.Backends;

namespace Memalloc.Commands;

/// <summary>What the cmdlets that wait share: -Timeout checks, and Ctrl+C (StopProcessing) ending a wait at once by
/// cancelling it, which wakes the sleeping thread from the stopping one (docs/coordination-design.md, "Cancellation").</summary>
public abstract class CoordinationCommandBase : MemStackCommandBase, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    private protected CancellationToken StopToken => _stopping.Token;

    /// <summary>A negative -Timeout is a terminating InvalidTimeout.</summary>
    private protected void ValidateTimeout(TimeSpan? timeout)
    {
        if (timeout < TimeSpan.Zero)
        {
            ThrowTerminatingError(MemallocErrors.InvalidTimeout(timeout.Value));
        }
    }

    /// <summary>The core's form of -Timeout: none given waits as long as it takes.</summary>
    private protected static TimeSpan WaitTime(TimeSpan? timeout) => timeout ?? Timeout.InfiniteTimeSpan;

    /// <summary>The time left of a wait that started at <paramref name="startedAt"/> (<see cref="Environment.TickCount64"/>).</summary>
    private protected static TimeSpan Left(TimeSpan wait, long startedAt) => wait == Timeout.InfiniteTimeSpan ? wait
        : TimeSpan.FromMilliseconds(Math.Max(0, wait.TotalMilliseconds - (Environment.TickCount64 - startedAt)));

    /// <summary>Runs a wait of the core; a stop turns its cancellation into the pipeline's stop.</summary>
    private protected T Waiting<T>(Func<T> wait)
    {
        try
        {
            return wait();
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    protected override void StopProcessing() => _stopping.Cancel();

    public void Dispose()
    {
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs <paramref name="operation"/> on the store (created when missing) until it completes without meeting
    /// a removal of the store: a store removed during a wait is reopened (made again) and the operation, which re-checks
    /// its condition there, runs again with the time left.</summary>
    private protected static T OnStoreReopening<T>(string storeName, Func<IStackStore, T> operation)
    {
        while (true)
        {
            using var lease = StoreCache.Acquire(storeName, create: true);
            var store = lease.Store!;
            try
            {
                return operation(store);
            }
            catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.StoreRemoved)
            {
                StoreCache.Forget(storeName, store);
            }
        }
    }
}
