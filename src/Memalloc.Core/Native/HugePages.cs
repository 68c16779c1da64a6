using System;
using System.Runtime.InteropServices;

namespace Memalloc.Core.Native;

/// <summary>
/// Asks Linux for transparent huge pages on an arena's mapping (madvise(MADV_HUGEPAGE)): a random read at a million stacks
/// makes two dependent accesses far apart (index slot, then record), and with 4 KiB pages each is a TLB miss with a page
/// walk (nested, in a virtual machine). The kernel honours the advice for System V segments when
/// /sys/kernel/mm/transparent_hugepage/shmem_enabled is <c>advise</c> (or <c>always</c>/<c>within_size</c>, which need no
/// advice) and ignores it otherwise (the same setting covers POSIX arenas, which are shmem in /dev/shm), so it is given unconditionally: reading the setting would cost more than the call.
/// Whoever first touches a page decides its size, so every process advises every arena it maps (docs/store-design.md,
/// "Huge pages").
/// </summary>
internal static unsafe partial class HugePages
{
    /// <summary>asm-generic/mman-common.h (x86-64, arm64 and the other architectures .NET runs on).</summary>
    private const int MADV_HUGEPAGE = 14;

    /// <summary>A PMD huge page with 4 KiB base pages: a smaller mapping cannot hold one.</summary>
    private const long HugePageSize = 2L << 20;

    [LibraryImport(Libc.LibraryName, EntryPoint = "madvise", SetLastError = true)]
    private static partial int MAdvise(IntPtr address, nuint length, int advice);

    /// <summary>Advises huge pages for an arena's whole mapping; a refusal (a kernel without THP: EINVAL) changes nothing,
    /// so it is not reported.</summary>
    internal static void Advise(SharedMapping arena)
    {
        if (OperatingSystem.IsLinux() && arena.Size >= HugePageSize)
        {
            _ = MAdvise((IntPtr)arena.Address, (nuint)arena.Size, MADV_HUGEPAGE);
        }
    }
}
