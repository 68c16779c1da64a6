using System;
using System.Threading;
using Memalloc.TestHost;
using Xunit;
using Xunit.Abstractions;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// Issue 9, defect 6: a write decides from the clock (is the old record expired? when does the new one expire? its
/// modified time), so it must read the clock under the writer lock, not before waiting for it. Another process
/// holds the lock (a writer stopped mid-write) while three writes of this process wait; the holder is killed only
/// after a stack has expired, and each write must act on the time it commits.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class WriteClockTests : ChildProcessTests
{
    public WriteClockTests(ITestOutputHelper output)
        : base(output)
    {
    }

    [SysVFact]
    public void Write_AfterWaitingForTheLock_UsesTheClockOfTheWrite()
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName);
            var expiring = store.TrySet("expiring", "old"u8, new WriteOptions { Expires = DateTime.UtcNow.AddSeconds(10) }, out var version)
                ? version : throw new InvalidOperationException("could not write");

            using var holder = TestHostProcess.Start("writer", storeName, "--names", "1", "--prefix", "h", "--count", "1",
                "--pause-at", "write.after-record", "--pause-ms", "120000");
            var paused = holder.WaitForLine(l => l.StartsWith("PAUSE", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            Assert.StartsWith("PAUSE", paused, StringComparison.Ordinal);
            Assert.True(store.Exists("expiring"), "the stack expired before the writes began: the machine is too slow for this test");

            var open = store;
            var results = new object?[3];
            using var started = new CountdownEvent(3);
            Thread Run(int index, Func<object?> write)
            {
                var thread = new Thread(() =>
                {
                    started.Signal();
                    try
                    {
                        results[index] = write();
                    }
                    catch (MemStoreException e)
                    {
                        results[index] = e;
                    }
                });
                thread.Start();
                return thread;
            }

            var conditional = Run(0, () => open.TrySet("expiring", "new"u8, new WriteOptions { ExpectedVersion = expiring }, out _));
            var plain = Run(1, () => open.Set("plain", "p"u8));
            var shortLived = Run(2, () => open.TrySet("short", "s"u8, new WriteOptions { Expires = DateTime.UtcNow.AddSeconds(2) }, out _));
            Assert.True(started.Wait(TimeSpan.FromSeconds(30)));

            // Hold the writes back until the stack has expired and the short expiry has passed.
            while (open.Exists("expiring"))
            {
                Thread.Sleep(50);
            }

            Thread.Sleep(2500);
            Assert.True(conditional.IsAlive && plain.IsAlive && shortLived.IsAlive, "a write did not wait for the lock");
            var released = DateTime.UtcNow;
            holder.KillHard();
            foreach (var thread in new[] { conditional, plain, shortLived })
            {
                Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "a write did not finish after the lock holder died");
            }

            Assert.Equal(false, results[0]); // the stack expired before this write committed: it was missing
            Assert.Null(store.Get("expiring"));
            var modified = store.GetInfo("plain")!.Modified;
            Assert.True(modified >= released.AddMilliseconds(-1), $"modified {modified:o} is before the lock was released at {released:o}");
            var refused = Assert.IsType<MemStoreException>(results[2]); // never acknowledged already expired
            Assert.Equal(MemStoreErrorKind.InvalidArgument, refused.Kind);
            Assert.False(store.Exists("short"));
            AssertValid(store);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }
}
