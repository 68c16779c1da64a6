using System;
using System.Diagnostics;
using System.IO.Hashing;
using System.Linq;
using System.Text;
using System.Threading;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>
/// Found by <see cref="LinearizabilityTests"/> (long run): a listing walked the index slot by slot while writers went
/// on, so it could combine slots read before one write with slots read after a later one, and list stacks as they
/// never were at any one time. A listing must be a state the store was in.
/// </summary>
public sealed class ListConsistencyTests
{
    /// <summary>
    /// A writer repeats "remove c; set b; set c", so that whenever c exists it was written after b (its version is
    /// larger). c's index slot comes before b's, so a walk that reads c's slot before a removal and b's slot after the
    /// next set would list an old c beside a newer b: a state that never existed.
    /// </summary>
    [Fact]
    public void A_listing_never_combines_stacks_from_different_moments()
    {
        using var t = new TestStore();
        var (c, b) = NamesInSlotOrder(t.Store);
        t.Store.Set(b, "b"u8);
        t.Store.Set(c, "c"u8);
        using var stop = new CancellationTokenSource();
        var writer = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                t.Store.Remove(c);
                t.Store.Set(b, "b"u8);
                t.Store.Set(c, "c"u8);
            }
        });
        writer.Start();
        try
        {
            var clock = Stopwatch.StartNew();
            for (var listing = 0; listing < 200_000 && clock.Elapsed < TimeSpan.FromSeconds(20); listing++)
            {
                var seen = t.Store.List().ToDictionary(i => i.Name, i => i.Version);
                Assert.True(!seen.TryGetValue(c, out var cv) || cv > seen[b],
                    $"listing {listing} shows {c} v{cv} beside the later {b} v{seen[b]}: the store never held both");
            }
        }
        finally
        {
            stop.Cancel();
            writer.Join();
        }
    }

    /// <summary>Two names whose home slots in a new store's index are far apart, the first one earlier.</summary>
    private static (string Early, string Late) NamesInSlotOrder(MemStore store)
    {
        long capacity = 0;
        store.WithArena((_, cap) => capacity = cap);
        var mask = (ulong)Arena.SlotCountFor(capacity, 0) - 1;
        ulong Home(string name) => XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(name)) & mask;
        var names = Enumerable.Range(0, 200).Select(i => "n" + i).ToList();
        var early = names.MinBy(Home)!;
        var late = names.MaxBy(Home)!;
        return (early, late);
    }
}
