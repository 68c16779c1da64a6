using System;
using System.Collections.Generic;
using System.Globalization;
using Memalloc.Core;

namespace Memalloc.Fuzz;

/// <summary>
/// One fuzz execution: lay the input out as a store (<see cref="FuzzCase"/>, <see cref="FuzzLayout"/>), then open it
/// and run every kind of call on it: reads of each name, listing, statistics, the update turn, writes (set, compare-and-set, create,
/// remove; a write may grow or compact), Verify, the removal check, a second instance, and finally destroying the
/// store. The property: every call
/// either works or throws <see cref="MemStoreException"/>; anything else (a NullReferenceException from a wild read,
/// an IndexOutOfRange, an overflow...) escapes as a finding, and so does a segment the store left attached after
/// Dispose. A crash of the process or a hang is seen by AFL (or the replay's watchdog) directly.
/// </summary>
internal sealed class FuzzHarness
{
    private static readonly MemStoreOptions s_creating = new() { InitialCapacity = 32 * 1024, MaxCapacity = StoreShapes.MaxCapacity };

    private readonly string _storeName;

    internal FuzzHarness(string storeName)
    {
        _storeName = storeName;
        Shapes = StoreShapes.Build(storeName);
    }

    internal IReadOnlyList<StoreShape> Shapes { get; }

    /// <summary>Store errors seen, by kind, over the harness's life (the replay reports them).</summary>
    internal Dictionary<MemStoreErrorKind, int> Refusals { get; } = new();

    /// <summary>Executions whose store opened, and whose Verify found problems (0 for the unchanged seeds).</summary>
    internal int Opened { get; private set; }

    internal int VerifyFailures { get; private set; }

    internal void Run(ReadOnlySpan<byte> input)
    {
        var fuzzCase = FuzzCase.Decode(Shapes, input);
        using var layout = new FuzzLayout(_storeName, fuzzCase);
        var names = new List<string>(fuzzCase.Shape.StackNames) { "fz-new" };
        MemStore? store = null;
        MemStore? second = null;
        try
        {
            store = Call(() => fuzzCase.Flags.HasFlag(FuzzFlags.OpenCreating) ? MemStore.Open(_storeName, s_creating) : MemStore.OpenExisting(_storeName));
            if (store is null)
            {
                return;
            }

            Opened++;

            Call(() => MemStore.ListStoreNames());
            Exercise(store, names, write: true);
            if (fuzzCase.Flags.HasFlag(FuzzFlags.SecondInstance))
            {
                second = Call(() => MemStore.OpenExisting(_storeName));
                if (second is not null)
                {
                    Exercise(second, names, write: false);
                }
            }
        }
        finally
        {
            second?.Dispose();
            store?.Dispose();
        }

        // Last, as a user's Remove-MemStore would: destruction recovers a dead writer's growth and removes the spare.
        Call(() => MemStore.DestroyStore(_storeName));
        var attached = layout.StillAttached();
        if (attached.Count > 0)
        {
            throw new InvalidOperationException($"The store left {attached.Count} segment(s) attached after Dispose: {string.Join(", ", attached)}.");
        }
    }

    private void Exercise(MemStore store, List<string> names, bool write)
    {
        var buffer = new byte[64];
        foreach (var name in names)
        {
            Call(() => store.Get(name));
            Call(() => store.TryGet(name, out _));
            Call(() => store.GetInfo(name));
            Call(() => store.Exists(name));
            Call(() => store.CopyValue(name, buffer));
        }

        Call(() => store.List());
        Call(() => store.ListNames());
        Call(() => store.GetStatistics());
        var first = names[0];
        Call(() => store.IsUpdateTurnBusy(first));
        Call(() => store.TakeUpdateTurn(first, TimeSpan.FromMilliseconds(10)))?.Dispose();
        if (write)
        {
            Call(() => store.Set(first, StoreShapes.Bytes(40, 11)));
            var version = Call(() => store.GetInfo(first))?.Version ?? 1;
            Call(() => store.TrySet(first, StoreShapes.Bytes(56, 12), new WriteOptions { ExpectedVersion = version }, out _));
            Call(() => store.TrySet("fz-new", StoreShapes.Bytes(3000, 13), new WriteOptions { ExpectedVersion = WriteOptions.MustNotExist, Expires = DateTime.UtcNow.AddHours(1) }, out _));
            Call(() => store.Remove(names[names.Count > 2 ? 1 : 0]));
            Call(() => store.Set("fz-grow", StoreShapes.Bytes(20_000, 14))); // more than a small arena has free: grows
            Call(() => store.Get(first));
        }

        if (Call(() => store.Verify()) is { IsValid: false })
        {
            VerifyFailures++;
        }

        Call(() => { store.EnsureNotRemoved(); return 0; });
    }

    private T? Call<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (MemStoreException e)
        {
            Refusals[e.Kind] = Refusals.GetValueOrDefault(e.Kind) + 1;
            return default;
        }
    }

    /// <summary>The committed seeds: each base shape as it is, and a few of the layouts and
    /// crash states real stores meet (a writer that died mid-write or mid-growth, an orphan, a stale spare).</summary>
    internal IEnumerable<(string Name, byte[] Input)> Seeds()
    {
        for (var shape = 0; shape < Shapes.Count; shape++)
        {
            yield return (Shapes[shape].Name, Seed(shape, FuzzFlags.None));
        }

        yield return ("three-second-instance", Seed(1, FuzzFlags.SecondInstance));
        yield return ("churn-orphan-open", Seed(2, FuzzFlags.Orphan | FuzzFlags.OpenCreating));
        yield return ("spare-orphan-zeroed", Seed(3, FuzzFlags.Orphan | FuzzFlags.OrphanZeroed));
        yield return ("many-segment-larger", Seed(5, FuzzFlags.ArenaPageLarger));
        var writing = Seed(2, FuzzFlags.None);
        writing[FuzzCase.AnchorOverlayPosition(Layout.WriterStateOffset)] = (byte)WriterState.Writing;
        yield return ("churn-dead-writer", SetLockSymbol(writing, 1));
        var growing = Seed(3, FuzzFlags.Orphan);
        growing[FuzzCase.AnchorOverlayPosition(Layout.WriterStateOffset)] = (byte)WriterState.Growing;
        growing[FuzzCase.AnchorOverlayPosition(Layout.PendingGenerationOffset)] = (byte)(Shapes[3].Generation + 1);
        BitConverter.TryWriteBytes(growing.AsSpan(FuzzCase.AnchorOverlayPosition(Layout.PendingShmIdOffset)), -1 ^ 3); // -1 becomes symbol 3, the orphan
        yield return ("spare-dead-grower", SetLockSymbol(growing, 1));
    }

    private byte[] Seed(int shape, FuzzFlags flags) => FuzzCase.Seed(Shapes[shape], shape, flags);

    private static byte[] SetLockSymbol(byte[] input, byte symbol)
    {
        input[FuzzCase.AnchorOverlayPosition(Layout.LockWordOffset)] = symbol;
        return input;
    }

}
