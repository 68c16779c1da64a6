using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Memalloc.TestHost;
using Xunit;
using Xunit.Abstractions;
using static Memalloc.Core.Tests.ProcessTestSupport;

namespace Memalloc.Core.Tests;

/// <summary>
/// Segments the store must not trust: another user's segment at the store's key (even a perfect imitation of an
/// anchor), our own segments that are not a store (wrong magic, group bits, wrong size, another store's name),
/// and a real store whose header, index, records or arena reference were overwritten. Never attached as ours,
/// never written, never a crash (corrupted stores are read in a child process so a segfault shows as an exit
/// code); the store reports ForeignSegment/Corrupt or probes on, and Verify reports instead of throwing.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class HostileSegmentTests : ChildProcessTests
{
    private static readonly MemStoreErrorKind[] s_refusals = [MemStoreErrorKind.ForeignSegment, MemStoreErrorKind.Corrupt];

    public HostileSegmentTests(ITestOutputHelper output)
        : base(output)
    {
    }

    [OtherUserTheory]
    [InlineData("imitation", "666")]
    [InlineData("imitation", "600")]
    [InlineData("zeros", "666")]
    public void Another_users_segment_at_the_store_key_is_never_attached_or_written(string content, string mode)
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        var copyFile = Path.Combine(Path.GetTempPath(), storeName + ".anchor");
        try
        {
            var (key, anchorBytes) = AnchorOfAFormerStore(storeName);
            File.WriteAllBytes(copyFile, content == "zeros" ? new byte[anchorBytes.Length] : anchorBytes);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(copyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }

            string[] plantArgs = content == "zeros"
                ? ["plant", key.ToString(CultureInfo.InvariantCulture), anchorBytes.Length.ToString(CultureInfo.InvariantCulture), mode]
                : ["plant", key.ToString(CultureInfo.InvariantCulture), anchorBytes.Length.ToString(CultureInfo.InvariantCulture), mode, "--copy-from", copyFile];
            using var planter = TestHostProcess.Run(TimeSpan.FromSeconds(60), plantArgs, asNobody: true);
            var planted = PlantedId(planter);
            janitor.Track(planted);
            var before = SysVTestNative.FindById(planted)!.Value;
            Assert.Equal(65534u, before.Cuid);

            // Not read back here: attaching it from this process would hide an attach by the store (same pid).
            var bytesBefore = File.ReadAllBytes(copyFile);

            AssertStoreRefusesOrProbesPast(storeName, key, janitor);

            var after = SysVTestNative.FindById(planted);
            Assert.True(after is not null, "the other user's segment was removed");
            Assert.True(before.LastPid == after.Value.LastPid && before.AttachTime == after.Value.AttachTime,
                $"the other user's segment was attached since it was planted (last pid {before.LastPid} -> {after.Value.LastPid}; this process is {Environment.ProcessId})");
            Assert.Equal(bytesBefore, SysVTestNative.ReadSegment(planted, before.Size));
        }
        finally
        {
            File.Delete(copyFile);
            DestroyQuietly(storeName, null);
        }
    }

    [SysVTheory]
    [InlineData("wrong-magic")]
    [InlineData("group-bits")]
    [InlineData("wrong-size")]
    [InlineData("other-store-name")]
    [InlineData("other-owner-uid")]
    public void Our_own_segment_that_is_not_this_store_is_never_taken_as_it(string kind)
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        var copyFile = Path.Combine(Path.GetTempPath(), storeName + ".anchor");
        try
        {
            var (key, anchor) = AnchorOfAFormerStore(storeName);
            var size = anchor.Length;
            var mode = "600";
            switch (kind)
            {
                case "wrong-magic":
                    anchor[Layout.AnchorMagicOffset] ^= 0xFF;
                    break;
                case "group-bits":
                    mode = "640";
                    break;
                case "wrong-size":
                    size = anchor.Length * 2;
                    break;
                case "other-store-name":
                    anchor[Layout.AnchorStoreNameOffset + 3] ^= 0x01;
                    break;
                case "other-owner-uid":
                    BinaryPrimitives.WriteUInt32LittleEndian(anchor.AsSpan(Layout.AnchorOwnerUidOffset), 4242);
                    break;
            }

            File.WriteAllBytes(copyFile, anchor);
            using var planter = TestHostProcess.Run(TimeSpan.FromSeconds(60),
                ["plant", key.ToString(CultureInfo.InvariantCulture), size.ToString(CultureInfo.InvariantCulture), mode, "--copy-from", copyFile]);
            var planted = PlantedId(planter);
            janitor.Track(planted);
            var bytesBefore = SysVTestNative.ReadSegment(planted, size);

            AssertStoreRefusesOrProbesPast(storeName, key, janitor);

            Assert.True(SysVTestNative.FindById(planted) is { } after && after.Key == key, "the planted segment was removed");
            Assert.Equal(bytesBefore, SysVTestNative.ReadSegment(planted, size));
        }
        finally
        {
            File.Delete(copyFile);
            DestroyQuietly(storeName, null);
        }
    }

    /// <summary>Stores are per user: another user opening a store of the same name gets a store of its own (its own
    /// keys, owned by it), never ours, and neither sees the other's stacks.</summary>
    [OtherUserFact]
    public void Another_user_opening_the_same_store_name_gets_its_own_store()
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName);
            janitor.TrackStore(store);
            store.Set("mine", Payload.Create("mine", 1, 1, 64));
            var ours = store.GetStatistics();

            using var other = TestHostProcess.Run(TimeSpan.FromSeconds(60), ["open", storeName, "theirs"], asNobody: true);
            var theirKey = KeyDerivation.AnchorKey(65534, storeName, 0);
            var theirAnchor = SysVTestNative.FindByKey(theirKey);
            if (theirAnchor is { } a)
            {
                janitor.Track(a.Id);
                for (uint g = 1; g < 4; g++)
                {
                    if (SysVTestNative.FindByKey(KeyDerivation.ArenaKey(theirKey, g)) is { } arena)
                    {
                        janitor.Track(arena.Id);
                    }
                }
            }

            Assert.True(other.ExitCode == 0, other.Transcript());
            var opened = Fields(other.Lines.Single(l => l.StartsWith("OPENED", StringComparison.Ordinal)));
            Assert.NotEqual(ours.Key.ToString(CultureInfo.InvariantCulture), opened[1]);
            Assert.DoesNotContain(int.Parse(opened[2], CultureInfo.InvariantCulture), ours.SegmentIds);
            Assert.True(theirAnchor is not null && theirAnchor.Value.Uid == 65534 && theirAnchor.Value.Cuid == 65534,
                "the other user's store is not at its own key, owned by it");
            Assert.Null(store.Get("theirs"));
            Assert.Equal(["mine"], store.ListNames());
            AssertValid(store);
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>Another user squatting the keys of the store's next arenas: growth skips them (to the next
    /// generation's key) and never attaches or writes them; the data survives the growth.</summary>
    [OtherUserFact]
    public void Another_users_segments_at_the_next_arena_keys_are_skipped_by_growth()
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            janitor.TrackStore(store);
            store.Set("n0", Payload.Create("n0", 1, 1, 100));
            var statistics = store.GetStatistics();
            var planted = new List<(int Id, ShmEntry Before)>();
            for (var g = statistics.Generation + 1; g <= statistics.Generation + 3; g++)
            {
                var key = KeyDerivation.ArenaKey(statistics.Key, (uint)g);
                using var planter = TestHostProcess.Run(TimeSpan.FromSeconds(60),
                    ["plant", key.ToString(CultureInfo.InvariantCulture), (1 << 20).ToString(CultureInfo.InvariantCulture), "666"], asNobody: true);
                var id = PlantedId(planter);
                janitor.Track(id);
                planted.Add((id, SysVTestNative.FindById(id)!.Value));
            }

            var expected = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < 24; i++)
            {
                var name = "g" + i.ToString(CultureInfo.InvariantCulture);
                var value = Payload.Create(name, 1, i + 2, 100_000);
                store.Set(name, value);
                expected[name] = Payload.HashText(value);
            }

            var after = store.GetStatistics();
            janitor.TrackStore(store);
            Output.WriteLine($"generation {statistics.Generation} -> {after.Generation}, capacity {statistics.Capacity} -> {after.Capacity}");
            Assert.True(after.Capacity > statistics.Capacity, "the store did not grow");
            foreach (var (name, hash) in expected)
            {
                Assert.Equal(hash, Payload.HashText(store.Get(name)));
            }

            AssertValid(store);
            foreach (var (id, before) in planted)
            {
                Assert.DoesNotContain(id, after.SegmentIds);
                var now = SysVTestNative.FindById(id);
                Assert.True(now is not null && now.Value.Key == before.Key, $"the other user's segment {id} was removed");
                Assert.True(now.Value.LastPid == before.LastPid && now.Value.AttachTime == before.AttachTime,
                    $"the other user's segment {id} was attached (last pid {before.LastPid} -> {now.Value.LastPid})");
            }
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>A process killed while creating the store leaves our own anchor-sized segment with magic still zero:
    /// once its creator is dead, Open replaces it promptly instead of waiting or refusing.</summary>
    [SysVFact]
    public void Anchor_left_half_created_by_a_dead_process_is_replaced()
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        try
        {
            var key = KeyDerivation.AnchorKey(SysVTestNative.GetEuid(), storeName, 0);
            using (var planter = TestHostProcess.Run(TimeSpan.FromSeconds(60),
                ["plant", key.ToString(CultureInfo.InvariantCulture), Layout.AnchorSize.ToString(CultureInfo.InvariantCulture), "600"]))
            {
                janitor.Track(PlantedId(planter));
            }

            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            using var store = Within(30, "Open over a half-created anchor", () => MemStore.Open(storeName));
            Assert.True(stopwatch.Elapsed < NextWriteBound, $"Open took {stopwatch.Elapsed.TotalSeconds:0.0} s");
            janitor.TrackStore(store);
            Output.WriteLine($"store at key 0x{store.GetStatistics().Key:x8}, the abandoned anchor was at 0x{key:x8}");
            store.Set("n0", Payload.Create("n0", 1, 1, 100));
            Assert.Null(Payload.Check("n0", store.Get("n0"), out _, out _));
            AssertValid(store);
        }
        finally
        {
            DestroyQuietly(storeName, null);
        }
    }

    public static TheoryData<string> ArenaCorruptions() =>
        new("arena-magic", "arena-generation", "arena-bump-past-end", "arena-heap-offset", "slot-offsets-past-end",
            "slot-offsets-misaligned", "record-value-bytes", "record-lengths", "record-name-length", "random-1", "random-2", "random-3", "random-4");

    [SysVTheory]
    [MemberData(nameof(ArenaCorruptions))]
    public void Corrupted_arena_is_reported_never_returned_and_never_crashes(string corruption)
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName);
            janitor.TrackStore(store);
            var expected = Populate(store, 16);
            var arenaId = store.GetStatistics().SegmentIds[1];
            var arena = SysVTestNative.ReadSegment(arenaId, SysVTestNative.FindById(arenaId)!.Value.Size);
            store.Dispose();
            store = null;

            var slots = BinaryPrimitives.ReadInt64LittleEndian(arena.AsSpan(Layout.ArenaSlotCountOffset));
            var capacity = BinaryPrimitives.ReadInt64LittleEndian(arena.AsSpan(Layout.ArenaCapacityOffset));
            var bump = BinaryPrimitives.ReadInt64LittleEndian(arena.AsSpan(Layout.ArenaBumpOffset));
            var usedSlots = Enumerable.Range(0, (int)slots)
                .Select(i => (Offset: Layout.IndexOffset + (i * Layout.SlotSize), Word: BinaryPrimitives.ReadUInt64LittleEndian(arena.AsSpan(Layout.IndexOffset + (i * Layout.SlotSize)))))
                .Where(s => s.Word > Layout.TombstoneSlot)
                .ToList();
            Assert.Equal(16, usedSlots.Count);
            var records = usedSlots.Select(s => (long)((s.Word & Layout.SlotOffsetMask) << 3)).ToList();
            var deterministic = !corruption.StartsWith("random", StringComparison.Ordinal);

            void Put64(long offset, ulong value)
            {
                Span<byte> b = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(b, value);
                SysVTestNative.WriteSegment(arenaId, offset, b);
            }

            switch (corruption)
            {
                case "arena-magic":
                    Put64(Layout.ArenaMagicOffset, 0xDEADBEEFDEADBEEF);
                    break;
                case "arena-generation":
                    SysVTestNative.WriteSegment(arenaId, Layout.ArenaGenerationOffset, [0x77, 0x77, 0, 0]);
                    break;
                case "arena-bump-past-end":
                    Put64(Layout.ArenaBumpOffset, (ulong)(capacity * 4));
                    break;
                case "arena-heap-offset":
                    Put64(Layout.ArenaHeapOffsetOffset, (ulong)(capacity - 8));
                    break;
                case "slot-offsets-past-end":
                    usedSlots.ForEach(s => Put64(s.Offset, (s.Word & ~Layout.SlotOffsetMask) | ((ulong)(capacity * 2) >> 3)));
                    break;
                case "slot-offsets-misaligned":
                    usedSlots.ForEach(s => Put64(s.Offset, s.Word + 1));
                    break;
                case "record-value-bytes":
                    records.ForEach(r => SysVTestNative.WriteSegment(arenaId, r + Layout.RecordNameOffset + 48, [(byte)(arena[r + Layout.RecordNameOffset + 48] ^ 0x5A)]));
                    break;
                case "record-lengths":
                    records.ForEach(r => Put64(r + Layout.RecordValueLengthOffset, (ulong)(capacity * 3)));
                    break;
                case "record-name-length":
                    records.ForEach(r => SysVTestNative.WriteSegment(arenaId, r + Layout.RecordNameLengthOffset, [0xFF]));
                    break;
                default:
                    var random = new Random(int.Parse(corruption["random-".Length..], CultureInfo.InvariantCulture));
                    for (var i = 0; i < 12; i++)
                    {
                        var offset = random.Next(0, (int)bump);
                        SysVTestNative.WriteSegment(arenaId, offset, [(byte)(arena[offset] ^ (1 << random.Next(8)))]);
                    }

                    break;
            }

            var lines = Inspect(storeName, 16, TimeSpan.FromSeconds(60));
            var verify = lines.FirstOrDefault(l => l.StartsWith("VERIFY", StringComparison.Ordinal));
            var open = lines.First(l => l.StartsWith("OPEN", StringComparison.Ordinal));
            Assert.True(open is "OPEN ok" or "OPEN threw Corrupt", open);
            if (open != "OPEN ok")
            {
                return;
            }

            Assert.True(verify is not null && !verify.StartsWith("VERIFY threw", StringComparison.Ordinal), $"Verify must report, not throw: {verify}");
            var deviations = new List<string>();
            for (var i = 0; i < 16; i++)
            {
                var got = lines.Single(l => l.StartsWith($"GOT n{i} ", StringComparison.Ordinal));
                Assert.False(got.Contains(" bad ", StringComparison.Ordinal), "a corrupted value was returned: " + got);
                Assert.True(got == $"GOT n{i} ok {expected[i]}" || got == $"GOT n{i} missing" || got == $"GOT n{i} threw Corrupt",
                    "unexpected outcome (a wrong value, or an error other than Corrupt): " + got);
                if (got != $"GOT n{i} ok {expected[i]}")
                {
                    deviations.Add(got);
                }
            }

            if (corruption == "record-value-bytes")
            {
                Assert.True(deviations.Count == 16 && deviations.All(d => d.EndsWith("threw Corrupt", StringComparison.Ordinal)),
                    "a checksum mismatch must be reported as Corrupt: " + string.Join("; ", deviations));
            }

            if (deterministic || deviations.Count > 0)
            {
                Assert.True(verify.StartsWith("VERIFY invalid", StringComparison.Ordinal),
                    $"Verify missed the corruption ({corruption}); reads gave: {string.Join("; ", deviations)}");
            }

            if (corruption is "arena-magic" or "arena-generation")
            {
                Assert.Contains("WRITE threw", lines.Single(l => l.StartsWith("WRITE", StringComparison.Ordinal)), StringComparison.Ordinal);
            }
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    [SysVTheory]
    [InlineData("arena-ref-to-decoy")]
    [InlineData("arena-ref-to-nothing")]
    [InlineData("anchor-key")]
    [InlineData("anchor-version")]
    public void Corrupted_anchor_never_leads_to_reading_or_writing_another_segment(string corruption)
    {
        var storeName = NewStoreName();
        using var janitor = new SegmentJanitor();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName);
            janitor.TrackStore(store);
            Populate(store, 4);
            var statistics = store.GetStatistics();
            var anchorId = statistics.SegmentIds[0];
            var arenaId = statistics.SegmentIds[1];
            var arenaSize = SysVTestNative.FindById(arenaId)!.Value.Size;
            store.Dispose();
            store = null;

            // The decoy: our own segment (0600, right size) full of bytes that are not an arena.
            var decoyId = SysVTestNative.ShmGet(0, arenaSize, SysVTestNative.IPC_CREAT | Convert.ToInt32("600", 8));
            Assert.True(decoyId >= 0, $"shmget decoy: errno {-decoyId}");
            janitor.Track(decoyId);
            var decoyBytes = new byte[arenaSize];
            new Random(3).NextBytes(decoyBytes);
            SysVTestNative.WriteSegment(decoyId, 0, decoyBytes);

            var anchor = SysVTestNative.ReadSegment(anchorId, Layout.AnchorSize);
            var generation = BinaryPrimitives.ReadUInt64LittleEndian(anchor.AsSpan(Layout.ArenaRefOffset)) >> 32;
            Span<byte> word = stackalloc byte[8];
            switch (corruption)
            {
                case "arena-ref-to-decoy":
                    BinaryPrimitives.WriteUInt64LittleEndian(word, (generation << 32) | (uint)decoyId);
                    SysVTestNative.WriteSegment(anchorId, Layout.ArenaRefOffset, word);
                    break;
                case "arena-ref-to-nothing":
                    BinaryPrimitives.WriteUInt64LittleEndian(word, (generation << 32) | 0x7FFFFFF0u);
                    SysVTestNative.WriteSegment(anchorId, Layout.ArenaRefOffset, word);
                    break;
                case "anchor-key":
                    SysVTestNative.WriteSegment(anchorId, Layout.AnchorKeyOffset, [0x11, 0x22, 0x33, 0x44]);
                    break;
                case "anchor-version":
                    SysVTestNative.WriteSegment(anchorId, Layout.AnchorVersionOffset, [0x63, 0, 0, 0]);
                    break;
            }

            var anchorBefore = SysVTestNative.ReadSegment(anchorId, Layout.AnchorSize);
            var lines = Inspect(storeName, 4, TimeSpan.FromSeconds(60));
            Assert.DoesNotContain(lines, l => l.Contains(" bad ", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.StartsWith("VERIFY threw", StringComparison.Ordinal) && !l.EndsWith("Corrupt", StringComparison.Ordinal) && !l.EndsWith("ForeignSegment", StringComparison.Ordinal));
            if (lines.Contains("VERIFY valid 0"))
            {
                Assert.Fail("Verify passed a store whose anchor was corrupted:\n" + string.Join("\n", lines));
            }

            Assert.Equal(decoyBytes, SysVTestNative.ReadSegment(decoyId, arenaSize));
            if (corruption is "arena-ref-to-decoy" or "arena-ref-to-nothing")
            {
                // A store whose arena reference names a segment that is not its arena must not be repaired by
                // writing through that reference: the anchor is unchanged too.
                Assert.Equal(anchorBefore.AsSpan(Layout.ArenaRefOffset, 8).ToArray(), SysVTestNative.ReadSegment(anchorId, Layout.AnchorSize).AsSpan(Layout.ArenaRefOffset, 8).ToArray());
            }
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    [OtherUserFact]
    public void Another_user_cannot_attach_our_segments_even_after_growth()
    {
        var storeName = NewStoreName();
        MemStore? store = null;
        try
        {
            store = MemStore.Open(storeName, SmallArena);
            var big = new byte[256 * 1024];
            for (var i = 0; i < 12; i++)
            {
                store.Set("big" + i.ToString(CultureInfo.InvariantCulture), big);
            }

            var statistics = store.GetStatistics();
            Assert.True(statistics.Generation > 1, "the store did not grow");
            Assert.Equal("rw-------", statistics.Permissions);
            Assert.Equal(0, statistics.OwnerUid);
            foreach (var id in statistics.SegmentIds)
            {
                var entry = SysVTestNative.FindById(id)!.Value;
                Assert.Equal(Convert.ToInt32("600", 8), entry.Perms & Convert.ToInt32("777", 8));
                Assert.Equal(0u, entry.Uid);
                Assert.Equal(0u, entry.Cuid);
                using var probe = TestHostProcess.Run(TimeSpan.FromSeconds(60), ["try-attach", id.ToString(CultureInfo.InvariantCulture)], asNobody: true);
                Assert.True(probe.Lines.Contains("DENIED 13"), $"nobody attaching shmid {id}: {probe.Transcript()}");
            }
        }
        finally
        {
            DestroyQuietly(storeName, store);
        }
    }

    /// <summary>Creates the store, keeps a copy of its anchor and its key, then destroys it: the key is where the
    /// store will look first next time, and the copy is a perfect imitation.</summary>
    private static (int Key, byte[] Anchor) AnchorOfAFormerStore(string storeName)
    {
        using var store = MemStore.Open(storeName);
        store.Set("n0", Payload.Create("n0", 1, 1, 100));
        var statistics = store.GetStatistics();
        var anchorId = statistics.SegmentIds[0];
        Assert.Equal(KeyDerivation.AnchorKey(SysVTestNative.GetEuid(), storeName, 0), statistics.Key);
        var bytes = SysVTestNative.ReadSegment(anchorId, SysVTestNative.FindById(anchorId)!.Value.Size);
        store.Destroy();
        Assert.Null(SysVTestNative.FindByKey(statistics.Key));
        return (statistics.Key, bytes);
    }

    private static int PlantedId(TestHostProcess planter)
    {
        var line = planter.Lines.FirstOrDefault(l => l.StartsWith("PLANTED", StringComparison.Ordinal));
        Assert.True(line is not null, "planting failed: " + planter.Transcript());
        return int.Parse(Fields(line)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>With a segment that is not this store at its first key: OpenExisting finds no store (or refuses),
    /// and Open either refuses or creates the store at another key, which then works.</summary>
    private void AssertStoreRefusesOrProbesPast(string storeName, int plantedKey, SegmentJanitor janitor)
    {
        try
        {
            using var existing = MemStore.OpenExisting(storeName);
            Assert.True(existing is null, "OpenExisting took a segment that is not the store for the store");
        }
        catch (MemStoreException e) when (s_refusals.Contains(e.Kind))
        {
            Output.WriteLine($"OpenExisting refused: {e.Kind}: {e.Message}");
        }

        MemStore store;
        try
        {
            store = MemStore.Open(storeName);
        }
        catch (MemStoreException e) when (s_refusals.Contains(e.Kind))
        {
            Output.WriteLine($"Open refused: {e.Kind}: {e.Message}");
            return;
        }

        using (store)
        {
            janitor.TrackStore(store);
            var statistics = store.GetStatistics();
            Output.WriteLine($"Open probed to key 0x{statistics.Key:x8} (planted at 0x{plantedKey:x8})");
            Assert.NotEqual(plantedKey, statistics.Key);
            Assert.Null(store.Get("n0"));
            store.Set("n1", Payload.Create("n1", 1, 2, 100));
            Assert.Null(Payload.Check("n1", store.Get("n1"), out _, out _));
            AssertValid(store);
        }

        using var again = MemStore.OpenExisting(storeName);
        Assert.True(again is not null && again.GetStatistics().Key != plantedKey, "reopening did not find the probed store");
    }

    private static string[] Populate(MemStore store, int count)
    {
        var hashes = new string[count];
        for (var i = 0; i < count; i++)
        {
            var name = "n" + i.ToString(CultureInfo.InvariantCulture);
            var value = Payload.Create(name, 1, i + 1, 100 + (i * 97));
            store.Set(name, value);
            hashes[i] = Payload.HashText(value);
        }

        return hashes;
    }
}
