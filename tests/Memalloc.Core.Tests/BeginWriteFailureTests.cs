using System;
using System.Globalization;
using System.Linq;
using Memalloc.TestHost;
using Xunit;
using Xunit.Abstractions;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// Issue 9, defect 1: a write that waited for the writer lock and then fails to enter the arena the anchor names
/// now (the store was destroyed, or this instance was disposed, while it waited) must leave every reference count
/// as it found it and release the lock word through a mapping it still holds.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class BeginWriteFailureTests : ChildProcessTests
{
    public BeginWriteFailureTests(ITestOutputHelper output)
        : base(output)
    {
    }

    /// <summary>Another process destroys the store while this one waits for the lock: the write fails with
    /// StoreRemoved, and once the instance is disposed nothing of the store stays attached here (a view exited
    /// twice keeps a per-thread count at -1 and is never freed).</summary>
    [SysVFact]
    public void BeginWriteFailure_NeverExitsAViewTwice()
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName);
            store.Set("a", Payload.Create("a", 1, 1, 64));
            var ids = store.GetStatistics().SegmentIds;
            Assert.Subset(MappedShmIds(), ids.ToHashSet());

            using var destroyer = TestHostProcess.Start("destroy", storeName, "--pause-at", "destroy.after-lock", "--pause-ms", "3000");
            var paused = destroyer.WaitForLine(l => l.StartsWith("PAUSE", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            Assert.StartsWith("PAUSE", paused, StringComparison.Ordinal);

            var open = store;
            var error = Within(60, "a write waiting for a destroyer's lock", () => Assert.Throws<MemStoreException>(() => open.Set("a", Payload.Create("a", 1, 2, 64))));
            Assert.Equal(MemStoreErrorKind.StoreRemoved, error.Kind);
            Assert.True(destroyer.WaitForExit(TimeSpan.FromSeconds(30)), destroyer.Transcript());
            Assert.Contains("DESTROYED 1", destroyer.Lines);

            store.Dispose();
            store = null;
            var left = MappedShmIds().Intersect(ids).ToList();
            Assert.True(left.Count == 0, "still attached after Dispose: shmid " + string.Join(", ", left));
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>The removal check reads the anchor, so it runs only inside an operation that holds a view (which keeps
    /// the anchor mapped): on a disposed instance it is ObjectDisposedException, never a read of a detached anchor.</summary>
    [SysVFact]
    public void CheckNotRemoved_OnADisposedStore_NeverReadsTheAnchor()
    {
        var storeName = NewStoreName();
        try
        {
            var store = MemStore.Open(storeName);
            store.Set("a", Payload.Create("a", 1, 1, 64));
            store.Dispose();
            Assert.Throws<ObjectDisposedException>(store.EnsureNotRemoved);
            Assert.Throws<ObjectDisposedException>(() => store.GetStatistics());
        }
        finally
        {
            DestroyQuietly(storeName, null);
        }
    }

    /// <summary>A thread waits for the lock (held by a growing writer in another process) while another thread
    /// disposes the instance; the growth moves the store to a new arena. The waiting write must fail cleanly
    /// (ObjectDisposedException), detach everything, and release the lock word: the growing writer's next writes
    /// must not wait behind a word left held by a process that is still alive.</summary>
    [SysVFact]
    public void BeginWriteFailure_AfterDispose_ReleasesTheLockWord()
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            store.Set("seed", Payload.Create("seed", 1, 1, 64));
            store.Dispose();
            store = null;

            // Values of 30 KB in a 64 KiB arena: the second write grows the store, and pauses after the copy
            // (lock held, the anchor still naming the old arena).
            using var writer = TestHostProcess.Start("writer", storeName, "--id", "2", "--names", "4", "--count", "6",
                "--min-size", "30000", "--max-size", "30000", "--pause-at", "grow.after-copy", "--pause-ms", "8000");
            writer.WaitForLine(l => l.StartsWith("PAUSE", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal)
                || l.StartsWith("DONE", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            Assert.True(writer.Lines.Any(l => l.StartsWith("PAUSE", StringComparison.Ordinal)), writer.Transcript());

            using var disposer = TestHostProcess.Start("dispose-while-waiting", storeName, "d", "--hold-seconds", "60");
            var outcome = disposer.WaitForLine(l => l.StartsWith("MAPPED", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            Output.WriteLine(disposer.Transcript());
            Assert.True(disposer.Lines.Contains("SET ObjectDisposedException"), "the waiting write did not fail as disposed:\n" + disposer.Transcript());
            Assert.True(outcome == "MAPPED 0", "segments still attached after Dispose:\n" + disposer.Transcript());

            // The disposer is still alive: a lock word it kept would hold the writer up until it exits.
            var done = writer.WaitForLine(l => l.StartsWith("DONE", StringComparison.Ordinal), TimeSpan.FromSeconds(45));
            Assert.False(disposer.HasExited, "the disposer ended early:\n" + disposer.Transcript());
            Output.WriteLine(done);

            store = MemStore.Open(storeName);
            AssertValid(store);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }
}
