using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Memalloc.Core;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>
/// Arenas are mapped with madvise(MADV_HUGEPAGE) (docs/store-design.md, "Huge pages"), which the kernel records on the
/// mapping as the VmFlags "hg" in /proc/self/smaps whatever shmem_enabled says; the tests need not change that setting.
/// Category=HostKernel: the arm64 pass under qemu-user leaves them out, as qemu accepts madvise hints without passing
/// them on to the host kernel.
/// </summary>
[Trait("Category", "HostKernel")]
public class HugePageAdviceTests
{
    /// <summary>The VmFlags of the mapping that contains <paramref name="address"/>, from /proc/self/smaps.</summary>
    private static string[] VmFlagsOf(IntPtr address)
    {
        var target = (ulong)address;
        var inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            var dash = line.IndexOf('-', StringComparison.Ordinal);
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
                && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end))
            {
                inside = start <= target && target < end;
            }
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                return line["VmFlags:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            }
        }

        throw new InvalidOperationException($"No mapping at 0x{target:x} in /proc/self/smaps.");
    }

    private static string[] ArenaVmFlags(MemStore store)
    {
        string[] flags = [];
        store.WithArena((address, _) => flags = VmFlagsOf(address));
        return flags;
    }

    [SysVFact] // Linux only: madvise(MADV_HUGEPAGE) and /proc/self/smaps are Linux's
    public void Arena_mappings_ask_for_huge_pages_in_every_process_and_after_growth()
    {
        using var t = new TestStore(new MemStoreOptions { InitialCapacity = 4L << 20 });
        t.Store.Set("v", new byte[100]);
        Assert.Contains("hg", ArenaVmFlags(t.Store)); // the creator's mapping

        using var other = MemStore.Open(t.StoreName);
        Assert.NotNull(other.Get("v"));
        Assert.Contains("hg", ArenaVmFlags(other)); // a second instance attaching the existing arena

        var generation = t.Store.GetStatistics().Generation;
        for (var i = 0; t.Store.GetStatistics().Generation == generation; i++)
        {
            t.Store.Set("grow-" + i.ToString(CultureInfo.InvariantCulture), new byte[256 * 1024]);
        }

        Assert.Contains("hg", ArenaVmFlags(t.Store)); // a new arena made by growth
        Assert.NotNull(other.Get("v"));
        Assert.Contains("hg", ArenaVmFlags(other));
    }
}
