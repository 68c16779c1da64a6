using System;
using System.IO;
using System.Linq;
using System.Text;
using Memalloc.Core.Snapshots;
using Memalloc.TestHost;
using Xunit;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// An exporting process killed at each step of an export (docs/snapshot-format.md, "Writing"): the target is the
/// previous snapshot, whole, until the rename publishes the new one; a kill while the records are copied under the
/// writer lock costs the next writer a recovery of milliseconds, never a wait or a damaged store.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class SnapshotCrashTests
{
    public static TheoryData<string, string> CrashPointCases() => new()
    {
        { "snapshot.after-copy", "old" },
        { "snapshot.after-records", "old" },
        { "snapshot.before-publish", "old" },
        { "snapshot.after-publish", "new" },
    };

    [SysVTheory]
    [MemberData(nameof(CrashPointCases))]
    public void Export_killed_at_a_step_leaves_the_previous_snapshot_or_the_new_one_whole(string point, string expected)
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        using var folder = new SnapshotFolder();
        var target = folder.File("s.snap");
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            for (var i = 0; i < 200; i++)
            {
                store.Set($"filler/{i:d3}", new byte[500]);
            }

            store.Set("generation", "old"u8);
            Export(store, target);
            store.Set("generation", "new"u8);

            using var host = TestHostProcess.Start("export", storeName, target, "--crash-at", point);
            Assert.True(host.WaitForExit(TimeSpan.FromSeconds(60)), host.Transcript());
            Assert.Contains(host.Lines, l => l.StartsWith($"CRASH {point}", StringComparison.Ordinal));

            var stacks = SnapshotFolder.Read(target);
            Assert.Equal(201, stacks.Count);
            Assert.Equal(expected, Encoding.UTF8.GetString(stacks.Single(s => s.Name == "generation").Value));
            Assert.All(folder.Entries().Where(e => e != target), e => Assert.Matches(@"/\.memalloc-export-\d+-[0-9A-F]{12}\.tmp$", e));
            AssertNextWriteIsPrompt(store);
            AssertValid(store);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    private static void Export(MemStore store, string path)
    {
        using var snapshot = store.TakeSnapshot();
        using var writer = SnapshotFileWriter.Create(path, store.Name, snapshot.TakenAt, SnapshotOverwrite.Replace);
        for (var i = 0; i < snapshot.Count; i++)
        {
            writer.WriteStack(snapshot.Get(i));
        }

        writer.Commit();
    }
}
