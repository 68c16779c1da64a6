using System;
using System.Globalization;
using System.Linq;
using Memalloc.TestHost;
using Xunit;
using Xunit.Abstractions;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// Issue 9, defect 2: while a live process is still creating a store's anchor (its magic still zero), every other
/// opener waits for it or fails with a clear, retryable error; none creates a second anchor at a later probe key.
/// A creator that died is cleaned up and the store is created at its key.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class AnchorCreationTests : ChildProcessTests
{
    public AnchorCreationTests(ITestOutputHelper output)
        : base(output)
    {
    }

    /// <summary>The creator stops for 4 s before it publishes the anchor (as a stopped, swapped or throttled process
    /// would): an opener meanwhile waits and then joins that store.</summary>
    [SysVFact]
    public void SlowAnchorCreator_DoesNotSplitTheStore()
    {
        var storeName = NewStoreName();
        var probe0 = MemStore.AnchorKeyFor(storeName, 0);
        MemStore? store = null;
        try
        {
            using var creator = TestHostProcess.Start("open", storeName, "first", "--pause-at", "create.before-magic", "--pause-ms", "4000");
            var paused = creator.WaitForLine(l => l.StartsWith("PAUSE", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal)
                || l.StartsWith("OPENED", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            Assert.True(paused.StartsWith("PAUSE", StringComparison.Ordinal), creator.Transcript());

            store = Within(60, "Open while another process creates the store", () => MemStore.Open(storeName));
            store.Set("second", Payload.Create("second", 1, 1, 64));
            Assert.True(creator.WaitForExit(TimeSpan.FromSeconds(60)) && creator.ExitCode == 0, creator.Transcript());

            Assert.Equal(probe0, store.GetStatistics().Key);
            Assert.Null(Payload.Check("first", store.Get("first"), out _, out _));
            var opened = Fields(creator.Lines.Single(l => l.StartsWith("OPENED", StringComparison.Ordinal)));
            Assert.Equal(probe0.ToString(CultureInfo.InvariantCulture), opened[1]);
            AssertOnlyProbe0(storeName);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>A creator that stays stopped: an opener gives up after its wait with StoreBusy (retryable, naming
    /// the process) instead of making a second store; once the creator is dead, the next open removes its
    /// half-made anchor and creates the store at the first probe key.</summary>
    [SysVFact]
    public void StalledAnchorCreator_IsAClearRetryableError_ThenReplacedOnceDead()
    {
        var storeName = NewStoreName();
        var probe0 = MemStore.AnchorKeyFor(storeName, 0);
        MemStore? store = null;
        try
        {
            using var creator = TestHostProcess.Start("open", storeName, "first", "--pause-at", "create.before-magic", "--pause-ms", "120000");
            var paused = creator.WaitForLine(l => l.StartsWith("PAUSE", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal)
                || l.StartsWith("OPENED", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            Assert.True(paused.StartsWith("PAUSE", StringComparison.Ordinal), creator.Transcript());

            using (var opener = TestHostProcess.Run(TimeSpan.FromSeconds(90), ["open", storeName, "second", "--creation-wait-ms", "1500"]))
            {
                Output.WriteLine(opener.Transcript());
                var line = opener.Lines.FirstOrDefault(l => l.StartsWith("ERROR", StringComparison.Ordinal) || l.StartsWith("OPENED", StringComparison.Ordinal));
                Assert.True(line is not null && line.StartsWith("ERROR StoreBusy", StringComparison.Ordinal), "expected StoreBusy:\n" + opener.Transcript());
                Assert.Contains(creator.Id.ToString(CultureInfo.InvariantCulture), line, StringComparison.Ordinal);
            }

            AssertOnlyProbe0(storeName);
            creator.KillHard();

            store = Within(60, "Open after the creator died", () => MemStore.Open(storeName));
            store.Set("third", Payload.Create("third", 1, 1, 64));
            Assert.Equal(probe0, store.GetStatistics().Key);
            AssertValid(store);
            AssertOnlyProbe0(storeName);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>No segment at any probe key but the first: a second anchor would split the store.</summary>
    private static void AssertOnlyProbe0(string storeName)
    {
        for (var probe = 1; probe < KeyDerivation.AnchorProbes; probe++)
        {
            var key = MemStore.AnchorKeyFor(storeName, probe);
            var segment = SysVTestNative.FindByKey(key);
            Assert.True(segment is null, $"a second anchor was created at probe {probe}: {Describe(segment is { } s ? [s] : [])}");
        }
    }
}
