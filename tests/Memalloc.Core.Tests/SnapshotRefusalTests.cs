using System;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Memalloc.Core;
using Memalloc.Core.Snapshots;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>
/// A snapshot that is truncated, damaged, malformed or not a snapshot at all is refused by the verifying pass, before
/// any stack is handed out (so before anything can be written to a store), with a reason a user can act on.
/// </summary>
public class SnapshotRefusalTests
{
    private static readonly TestStack[] s_stacks =
    [
        new("alpha", Encoding.UTF8.GetBytes("<Objs><S>one</S></Objs>"), "System.String"),
        new("beta", [1, 2, 3, 4, 5], null, ValueEncoding.Raw, ExpiresMs: 4_000_000_000_000),
        new("gamma", Encoding.UTF8.GetBytes("three"), "System.String"),
    ];

    private static byte[] ValidFile(SnapshotFolder folder)
    {
        var path = folder.File("valid.snap");
        SnapshotFolder.Write(path, s_stacks);
        return File.ReadAllBytes(path);
    }

    private static MemStoreException Refused(SnapshotFolder folder, byte[] bytes, string name = "bad.snap")
    {
        var path = folder.File(name);
        File.WriteAllBytes(path, bytes);
        var refusal = SnapshotFolder.Refusal(path);
        Assert.NotNull(refusal);
        Assert.Contains(path, refusal.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was written", refusal.Message, StringComparison.Ordinal);
        return refusal;
    }

    [Fact]
    public void Every_truncation_is_refused()
    {
        using var folder = new SnapshotFolder();
        var file = ValidFile(folder);
        Assert.Null(SnapshotFolder.Refusal(folder.File("valid.snap")));
        for (var length = 0; length < file.Length; length++)
        {
            var refusal = Refused(folder, file[..length]);
            Assert.Matches(length == 0 ? "is empty" : length < 8 ? "not a Memalloc snapshot" : "truncated", refusal.Message);
        }
    }

    [Fact]
    public void Every_single_bit_flip_is_refused()
    {
        using var folder = new SnapshotFolder();
        var file = ValidFile(folder);
        for (var bit = 0; bit < file.Length * 8; bit++)
        {
            var damaged = (byte[])file.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            var refusal = Refused(folder, damaged);
            Assert.Matches(bit < 64 ? "not a Memalloc snapshot" : bit < 128 * 8 ? "header is damaged" : "damaged", refusal.Message);
        }
    }

    [Fact]
    public void Bytes_appended_after_the_snapshot_are_refused()
    {
        using var folder = new SnapshotFolder();
        var refusal = Refused(folder, [.. ValidFile(folder), 0]);
        Assert.Contains("1 bytes follow the end", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_CliXml_file_is_refused_as_such()
    {
        using var folder = new SnapshotFolder();
        var cliXml = "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">\n  <S>x</S>\n</Objs>";
        Assert.Contains("Export-Clixml", Refused(folder, Encoding.UTF8.GetBytes(cliXml)).Message, StringComparison.Ordinal);
        Assert.Contains("Export-Clixml", Refused(folder, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("<?xml version=\"1.0\"?>" + cliXml)]).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_bytes_are_refused()
    {
        using var folder = new SnapshotFolder();
        var random = new Random(14);
        foreach (var length in new[] { 1, 7, 8, 127, 128, 160, 4096, 1 << 20 })
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            Assert.Matches("not a Memalloc snapshot|truncated", Refused(folder, bytes).Message);
        }
    }

    [Fact]
    public void Random_bytes_behind_a_valid_signature_are_refused()
    {
        using var folder = new SnapshotFolder();
        var bytes = new byte[4096];
        new Random(15).NextBytes(bytes);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, SnapshotFormat.Magic);
        Assert.Contains("header is damaged", Refused(folder, bytes).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_newer_format_version_is_refused_by_name()
    {
        using var folder = new SnapshotFolder();
        var file = SnapshotFolder.Craft(SnapshotFolder.Trailer(0, 0, 0));
        file[8] = 2;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(120), SnapshotFormat.HeaderChecksum(file));
        Assert.Contains("format version 2", Refused(folder, file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_header_flags_are_refused()
    {
        using var folder = new SnapshotFolder();
        var file = SnapshotFolder.Craft(SnapshotFolder.Trailer(0, 0, 0));
        file[12] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(120), SnapshotFormat.HeaderChecksum(file));
        Assert.Contains("flags 0x1", Refused(folder, file).Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, byte[]> MalformedContents => new()
    {
        { "trailer counts", SnapshotFolder.Concat(SnapshotFolder.Record("a", [1]), SnapshotFolder.Trailer(2, 2, 1)) },
        { "trailer is missing", SnapshotFolder.Concat(SnapshotFolder.Record("a", [1]), new byte[32]) },
        { "out of order", SnapshotFolder.Concat(SnapshotFolder.Record("b", [1]), SnapshotFolder.Record("a", [1]), SnapshotFolder.Trailer(2, 2, 2)) },
        { "out of order", SnapshotFolder.Concat(SnapshotFolder.Record("a", [1]), SnapshotFolder.Record("a", [2]), SnapshotFolder.Trailer(2, 2, 2)) },
        { "control character", SnapshotFolder.Concat(SnapshotFolder.Record("a\nb", [1]), SnapshotFolder.Trailer(1, 1, 1)) },
        { "not valid UTF-8", SnapshotFolder.Concat(Patched(SnapshotFolder.Record("ab", [1]), 48, 0xFF), SnapshotFolder.Trailer(1, 1, 1)) },
        { "type name that is not valid UTF-8", SnapshotFolder.Concat(Patched(SnapshotFolder.Record("a", [1], typeName: "T"), 49, 0xC0), SnapshotFolder.Trailer(1, 1, 1)) },
        { "encoding 7", SnapshotFolder.Concat(SnapshotFolder.Record("a", [1], encoding: 7), SnapshotFolder.Trailer(1, 1, 1)) },
        { "kind 0", SnapshotFolder.Concat(SnapshotFolder.Record("a", [1], kind: 0), SnapshotFolder.Trailer(1, 1, 1)) },
        { "outside 1970 to 9999", SnapshotFolder.Concat(SnapshotFolder.Record("a", [1], created: -1), SnapshotFolder.Trailer(1, 1, 1)) },
        { "outside 1970 to 9999", SnapshotFolder.Concat(SnapshotFolder.Record("a", [1], expires: long.MaxValue), SnapshotFolder.Trailer(1, 1, 1)) },
        { "more than is left", SnapshotFolder.Concat(SnapshotFolder.Record("a", [1], payloadLengthOverride: 1000), SnapshotFolder.Trailer(1, 1, 1)) },
        { "impossible length", SnapshotFolder.Concat(SnapshotFolder.Record("a", [1], payloadLengthOverride: 20), new byte[14], SnapshotFolder.Trailer(1, 1, 1)) },
        { "impossible lengths", SnapshotFolder.Concat(Patched(SnapshotFolder.Record("a", [1]), 17, 0), SnapshotFolder.Trailer(1, 1, 1)) },
        { "reserved bytes", SnapshotFolder.Concat(Patched(SnapshotFolder.Record("a", [1]), 3, 1), SnapshotFolder.Trailer(1, 1, 1)) },
        { "reserved bytes", SnapshotFolder.Concat(Patched(SnapshotFolder.Record("a", [1]), 20, 1), SnapshotFolder.Trailer(1, 1, 1)) },
        { "cut off before the trailer", SnapshotFolder.Concat(SnapshotFolder.Record("a", [1]), new byte[5], SnapshotFolder.Trailer(1, 1, 1)) },
    };

    [Theory]
    [MemberData(nameof(MalformedContents))]
    public void Malformed_records_in_an_undamaged_file_are_refused_with_the_reason(string reason, byte[] content)
    {
        using var folder = new SnapshotFolder();
        Assert.Contains(reason, Refused(folder, SnapshotFolder.Craft(content)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_rewritten_in_place_after_verification_stops_the_import_at_the_change()
    {
        using var folder = new SnapshotFolder();
        var path = folder.File("changing.snap");
        var big = new TestStack[3];
        for (var i = 0; i < big.Length; i++)
        {
            big[i] = new TestStack($"s{i}", new byte[1 << 20]);
        }

        SnapshotFolder.Write(path, big);
        using var reader = SnapshotFileReader.Open(path);
        reader.Verify();
        Assert.True(reader.ReadNext(out _));
        using (var rewrite = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            rewrite.Position = rewrite.Length - 100;
            rewrite.WriteByte(1);
        }

        var error = Assert.Throws<MemStoreException>(() =>
        {
            while (reader.ReadNext(out _))
            {
            }
        });
        Assert.Contains("changed on disk", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Patched(byte[] bytes, int offset, byte value)
    {
        bytes[offset] = value;
        return bytes;
    }

    /// <summary>Defect: Import-MemStore of a FIFO waited in open(2) for a writer that never came.</summary>
    [Fact]
    public async Task Import_of_a_fifo_is_refused_rather_than_waiting_for_a_writer()
    {
        using var folder = new SnapshotFolder();
        var fifo = SnapshotFolder.MakeFifo(folder.File("pipe"));
        var open = Task.Run(() => Assert.Throws<MemStoreException>(() => SnapshotFileReader.Open(fifo).Dispose()));
        var error = await open.WaitAsync(TimeSpan.FromSeconds(60)); // a TimeoutException fails the test: it waited for a writer
        Assert.Equal(MemStoreErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("not a regular file", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Defect: Import-MemStore of a folder said "Access to the path is denied" (PermissionDenied), even to root.</summary>
    [Fact]
    public void Import_of_a_directory_is_an_invalid_argument_not_a_permission_problem()
    {
        using var folder = new SnapshotFolder();
        var error = Assert.Throws<MemStoreException>(() => SnapshotFileReader.Open(folder.Path).Dispose());
        Assert.Equal(MemStoreErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("is a directory", error.Message, StringComparison.Ordinal);
    }
}
