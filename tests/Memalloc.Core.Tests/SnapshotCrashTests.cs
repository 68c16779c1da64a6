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

    [SysVFact]
    public void Writes_and_reads_do_not_wait_while_an_export_writes_its_file()
    {
        // The exporter stops with its file half made (records written, header not), as on a slow or stalled disk. Other
        // processes' writes must not wait for it: the copy under the writer lock is over by then.
        var storeName = NewStoreName();
        MemStore? store = null;
        using var folder = new SnapshotFolder();
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            store.Set("before", "old"u8);
            using var host = TestHostProcess.Start("export", storeName, folder.File("s.snap"), "--pause-at", "snapshot.after-records", "--pause-ms", "300000");
            host.WaitForLine(l => l.StartsWith("PAUSE snapshot.after-records", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            var written = store;
            Within(60, "a write while the export writes its file", () => written.Set("during", "new"u8));
            Assert.Equal("old"u8.ToArray(), store.Get("before"));
            Assert.False(host.HasExited || host.Lines.Any(l => l.StartsWith("RESUME", StringComparison.Ordinal)),
                "the write must finish while the exporter is still paused: " + host.Transcript());
            host.KillHard();
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
            snapshot.WriteEntry(i, writer);
        }

        writer.Commit();
    }
}
