using System;
using System.IO;
using System.Linq;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;
using Memalloc.Core;
using Memalloc.Core.Snapshots;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>How a snapshot reaches its name: through a temporary file, never half-written under the target, with
/// -NoClobber decided by the file system in the same step and -Force needed for a read-only file.</summary>
[UnsupportedOSPlatform("windows")]
public class SnapshotPublishTests
{
    private static readonly TestStack[] s_old = [new("old", [1, 2, 3])];
    private static readonly TestStack[] s_new = [new("new", [4, 5, 6])];

    [Fact]
    public void An_existing_file_is_replaced_whole()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("s.snap");
        SnapshotFolder.Write(path, s_old);
        SnapshotFolder.Write(path, s_new);
        Assert.Equal("new", Assert.Single(SnapshotFolder.Read(path)).Name);
        Assert.Equal([path], folder.Entries());
    }

    [Fact]
    public void An_abandoned_export_leaves_the_old_file_and_no_temporary_file()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("s.snap");
        SnapshotFolder.Write(path, s_old);
        var before = File.ReadAllBytes(path);
        using (var writer = SnapshotFileWriter.Create(path, "snaptest", DateTime.UtcNow, SnapshotOverwrite.Replace))
        {
            writer.WriteStack(SnapshotFolder.Stack(s_new[0]));
            Assert.True(File.Exists(writer.TempPath));
            Assert.Equal(folder.Path, Path.GetDirectoryName(writer.TempPath));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(writer.TempPath));
            Assert.Equal(before, File.ReadAllBytes(path)); // nothing reaches the target before the commit
        }

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], folder.Entries());
    }

    [Fact]
    public void NoClobber_refuses_an_existing_file_before_writing()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("s.snap");
        SnapshotFolder.Write(path, s_old);
        var error = Assert.Throws<MemStoreException>(() => SnapshotFileWriter.Create(path, "snaptest", DateTime.UtcNow, SnapshotOverwrite.Never));
        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        Assert.Equal("old", Assert.Single(SnapshotFolder.Read(path)).Name);
        Assert.Equal([path], folder.Entries());
    }

    [Fact]
    public void NoClobber_refuses_a_file_that_appeared_while_the_snapshot_was_written()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("s.snap");
        using var writer = SnapshotFileWriter.Create(path, "snaptest", DateTime.UtcNow, SnapshotOverwrite.Never);
        writer.WriteStack(SnapshotFolder.Stack(s_new[0]));
        File.WriteAllText(path, "someone else's");
        var error = Assert.Throws<MemStoreException>(writer.Commit);
        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        writer.Dispose();
        Assert.Equal("someone else's", File.ReadAllText(path));
        Assert.Equal([path], folder.Entries());
    }

    [Fact]
    public void NoClobber_lets_exactly_one_of_racing_exports_win()
    {
        using var folder = new SnapshotFolder();
        for (var round = 0; round < 20; round++)
        {
            var path = folder.File($"race{round}.snap");
            using var start = new Barrier(4);
            var outcomes = Enumerable.Range(0, 4).Select(i => Task.Run(() =>
            {
                using var writer = SnapshotFileWriter.Create(path, "snaptest", DateTime.UtcNow, SnapshotOverwrite.Never);
                writer.WriteStack(SnapshotFolder.Stack(new TestStack($"writer{i}", [(byte)i])));
                start.SignalAndWait();
                try
                {
                    writer.Commit();
                    return i;
                }
                catch (MemStoreException e) when (e.Message.Contains("already exists", StringComparison.Ordinal))
                {
                    return -1;
                }
            })).ToArray();
            var winners = outcomes.Select(t => t.Result).Where(i => i >= 0).ToArray();
            var winner = Assert.Single(winners);
            Assert.Equal($"writer{winner}", Assert.Single(SnapshotFolder.Read(path)).Name);
        }

        Assert.Equal(20, folder.Entries().Length); // no temporary file left by a loser
    }

    [Fact]
    public void NoClobber_by_hard_link_where_no_exclusive_rename_exists_refuses_an_existing_file()
    {
        using var folder = new SnapshotFolder();
        var temp = folder.File(".temp");
        var target = folder.File("s.snap");
        File.WriteAllText(temp, "new");
        File.WriteAllText(target, "old");
        var error = Assert.Throws<MemStoreException>(() => SnapshotFileWriter.PublishByLink(temp, target));
        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        Assert.Equal("old", File.ReadAllText(target));
        File.Delete(target);
        SnapshotFileWriter.PublishByLink(temp, target);
        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal([target], folder.Entries());
    }

    [Fact]
    public void A_read_only_file_is_replaced_only_with_force()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("ro.snap");
        SnapshotFolder.Write(path, s_old);
        File.SetUnixFileMode(path, UnixFileMode.UserRead);
        var error = Assert.Throws<MemStoreException>(() => SnapshotFolder.Write(path, s_new));
        Assert.Contains("read-only; use -Force", error.Message, StringComparison.Ordinal);
        Assert.Equal("old", Assert.Single(SnapshotFolder.Read(path)).Name);
        SnapshotFolder.Write(path, s_new, overwrite: SnapshotOverwrite.ReplaceReadOnly);
        Assert.Equal("new", Assert.Single(SnapshotFolder.Read(path)).Name);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_symbolic_link_is_followed_and_kept()
    {
        using var folder = new SnapshotFolder();
        Directory.CreateDirectory(folder.File("real"));
        var real = folder.File("real/s.snap");
        var link = folder.File("link.snap");
        File.CreateSymbolicLink(link, real);
        SnapshotFolder.Write(link, s_new);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal("new", Assert.Single(SnapshotFolder.Read(real)).Name);
    }

    [Fact]
    public void A_folder_is_not_a_snapshot_target()
    {
        using var folder = new SnapshotFolder();
        var error = Assert.Throws<MemStoreException>(() => SnapshotFolder.Write(folder.Path, s_new));
        Assert.Contains("is a directory", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Defect: an export to /dev/null (run as root) renamed the snapshot over the device node, leaving a regular
    /// file of mode 0600 where /dev/null was. A FIFO stands in for the device here: any target that is not a regular
    /// file is refused, and left as it was.</summary>
    [Fact]
    public void Export_over_a_device_or_fifo_is_refused_and_leaves_it_alone()
    {
        using var folder = new SnapshotFolder();
        var fifo = SnapshotFolder.MakeFifo(folder.File("pipe"));
        var error = Assert.Throws<MemStoreException>(() => SnapshotFolder.Write(fifo, s_new));
        Assert.Equal(MemStoreErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("not a regular file", error.Message, StringComparison.Ordinal);
        Assert.True(SnapshotFolder.IsFifo(fifo), "the FIFO must still be a FIFO");
        Assert.Equal([fifo], folder.Entries());
    }

    [Fact]
    public void A_missing_folder_is_reported_by_the_file_system()
    {
        using var folder = new SnapshotFolder();
        Assert.Throws<DirectoryNotFoundException>(() => SnapshotFolder.Write(folder.File("no/such/s.snap"), s_new));
    }
}
