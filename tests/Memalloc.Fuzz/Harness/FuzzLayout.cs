using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Memalloc.Core;
using Memalloc.Core.Native;

namespace Memalloc.Fuzz;

/// <summary>
/// Lays a <see cref="FuzzCase"/> out in real System V segments of the current user (mode 0600 unless the case says
/// otherwise, so that the ownership checks pass and the parser is reached): the anchor at the store's first probe key,
/// the arena, spare and orphan at their derived keys. Symbols become shmids here. Disposing removes every segment this
/// process created (the harness owns its process: the case's and the store's), and <see cref="StillAttached"/> reports
/// the ones the store left attached.
/// </summary>
internal sealed unsafe class FuzzLayout : IDisposable
{
    /// <summary>A pid above Linux's pid_max (2^22): no process has it, so a lock word naming it has a dead owner.</summary>
    private const int DeadPid = 0x3FFF_FFF0;

    /// <summary>A shmid no segment has (ids are small in a fresh IPC namespace, and this one is far beyond).</summary>
    private const int MissingShmId = 0x7FFF_FFF0;

    private readonly List<int> _created = new();

    internal FuzzLayout(string storeName, FuzzCase fuzzCase)
    {
        AnchorKey = KeyDerivation.AnchorKey(Libc.GetUid(), storeName, 0);
        var generation = fuzzCase.Shape.Generation;
        var flags = fuzzCase.Flags;
        var anchorId = Create(AnchorKey, flags.HasFlag(FuzzFlags.AnchorWrongSize) ? 2 * Layout.AnchorSize : Layout.AnchorSize, 0x180);
        var arenaSize = fuzzCase.Arena.Length + ((flags & (FuzzFlags.ArenaPageLarger | FuzzFlags.ArenaPageSmaller)) switch
        {
            FuzzFlags.ArenaPageLarger => 4096,
            FuzzFlags.ArenaPageSmaller => -4096,
            FuzzFlags.ArenaPageLarger | FuzzFlags.ArenaPageSmaller => 4096 - fuzzCase.Arena.Length,
            _ => 0,
        });
        var arenaId = Create(KeyDerivation.ArenaKey(AnchorKey, generation), arenaSize, flags.HasFlag(FuzzFlags.ArenaGroupReadable) ? 0x1A0 : 0x180);
        // At the key of the base's generations: the input may change the headers' generations, not where segments lie.
        var spareId = fuzzCase.Spare is null ? MissingShmId
            : Create(KeyDerivation.ArenaKey(AnchorKey, BitConverter.ToUInt32(fuzzCase.Shape.Spare!, Layout.ArenaGenerationOffset)), fuzzCase.Spare.Length, 0x180);
        var orphanId = MissingShmId;
        byte[]? orphan = null;
        if (flags.HasFlag(FuzzFlags.Orphan))
        {
            orphanId = Create(KeyDerivation.ArenaKey(AnchorKey, generation + 1), fuzzCase.Arena.Length, 0x180);
            if (!flags.HasFlag(FuzzFlags.OrphanZeroed))
            {
                orphan = (byte[])fuzzCase.Arena.Clone();
                BinaryPrimitives.WriteUInt32LittleEndian(orphan.AsSpan(Layout.ArenaGenerationOffset), generation + 1);
            }
        }

        // Any symbol names one of these: the case's own segments, or none.
        int[] segments = [arenaId, anchorId, spareId, orphanId, MissingShmId];
        ResolveSymbols(fuzzCase.Anchor, fuzzCase.Shape, segments);
        Fill(anchorId, fuzzCase.Anchor);
        Fill(arenaId, fuzzCase.Arena);
        if (fuzzCase.Spare is not null)
        {
            Fill(spareId, fuzzCase.Spare);
        }

        if (orphan is not null)
        {
            Fill(orphanId, orphan);
        }
    }

    internal int AnchorKey { get; }

    private void ResolveSymbols(byte[] anchor, StoreShape shape, int[] segments)
    {
        // Magic 0 means "being created" and this process, the creator, is alive: a store waits for it. Not a parser input.
        if (BinaryPrimitives.ReadUInt64LittleEndian(anchor) == 0)
        {
            anchor[0] = 1;
        }

        ResolveOwner(anchor, Layout.LockWordOffset);
        ResolveOwner(anchor, FuzzCase.TurnOffset(shape) + Layout.TurnOwnerOffset);
        ResolveRef(anchor, Layout.ArenaRefOffset, segments, keepZero: false);
        ResolveRef(anchor, Layout.SpareRefOffset, [segments[2], segments[0], segments[1], segments[3], segments[4]], keepZero: true);
        ResolveId(anchor, Layout.PendingShmIdOffset, segments);
        ResolveId(anchor, Layout.PreviousShmIdOffset, segments);
        var pendingKey = BinaryPrimitives.ReadInt32LittleEndian(anchor.AsSpan(Layout.PendingKeyOffset));
        if (pendingKey != 0)
        {
            var pendingGeneration = BinaryPrimitives.ReadUInt32LittleEndian(anchor.AsSpan(Layout.PendingGenerationOffset));
            var generation = (uint)(BinaryPrimitives.ReadUInt64LittleEndian(anchor.AsSpan(Layout.ArenaRefOffset)) >> 32);
            BinaryPrimitives.WriteInt32LittleEndian(anchor.AsSpan(Layout.PendingKeyOffset),
                KeyDerivation.ArenaKey(AnchorKey, (pendingKey & 1) == 0 ? pendingGeneration : generation + 1));
        }
    }

    /// <summary>An owner word (the writer lock's, an update turn's): free, or an owner that is certainly dead. Never a live
    /// process, this one included: a live holder is waited for by design (Open waits 5 s for a destroyer holding the lock
    /// to mark the anchor), which AFL would report as a hang.</summary>
    private static void ResolveOwner(byte[] anchor, int offset)
    {
        var symbol = BinaryPrimitives.ReadUInt64LittleEndian(anchor.AsSpan(offset));
        var own = (uint)Environment.ProcessId;
        var word = symbol == 0 ? 0 : (symbol % 2) switch
        {
            0 => ((ulong)0x8000_1234 << 32) | DeadPid,                          // a dead owner
            _ => ((ulong)(WriterLock.StartTimeToken((int)own) ^ 1) << 32) | own, // our pid, another start time: pid reuse
        };
        BinaryPrimitives.WriteUInt64LittleEndian(anchor.AsSpan(offset), word);
    }

    /// <summary>A reference's low 32 bits are a symbol (0 = the first of <paramref name="table"/>); the generation stays.</summary>
    private static void ResolveRef(byte[] anchor, int offset, int[] table, bool keepZero)
    {
        var value = BinaryPrimitives.ReadUInt64LittleEndian(anchor.AsSpan(offset));
        if ((keepZero && value == 0) || value == Layout.RemovedArenaRef)
        {
            return;
        }

        var shmId = table[(uint)value % (uint)table.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(anchor.AsSpan(offset), (value & 0xFFFF_FFFF_0000_0000UL) | (uint)shmId);
    }

    /// <summary>A shmid field: -1 stays "none", anything else is a symbol.</summary>
    private static void ResolveId(byte[] anchor, int offset, int[] table)
    {
        var value = BinaryPrimitives.ReadInt32LittleEndian(anchor.AsSpan(offset));
        if (value != -1)
        {
            BinaryPrimitives.WriteInt32LittleEndian(anchor.AsSpan(offset), table[(uint)value % (uint)table.Length]);
        }
    }

    private int Create(int key, long size, int mode)
    {
        var shmId = Libc.ShmGet(key, size, Libc.IPC_CREAT | Libc.IPC_EXCL | mode, out var errno);
        if (shmId < 0 && errno == Libc.EEXIST)
        {
            if (_created.Contains(Libc.ShmLookup(key, out _)))
            {
                throw new InvalidOperationException($"The fuzz harness placed two segments at key {key}: a harness defect.");
            }

            // Left by an earlier case (a process killed mid-case): ours by key, remove it and retry.
            Libc.Remove(Libc.ShmLookup(key, out _));
            shmId = Libc.ShmGet(key, size, Libc.IPC_CREAT | Libc.IPC_EXCL | mode, out errno);
        }

        if (shmId < 0)
        {
            throw new InvalidOperationException($"The fuzz harness could not create a segment of {size} bytes at key {key}: errno {errno}.");
        }

        _created.Add(shmId);
        return shmId;
    }

    private static void Fill(int shmId, byte[] bytes)
    {
        Libc.TryStat(shmId, out var status, out _);
        using var attachment = Libc.ShmAt(shmId, status.Size, out var errno)
            ?? throw new InvalidOperationException($"The fuzz harness could not attach segment {shmId}: errno {errno}.");
        bytes.AsSpan(0, (int)Math.Min(bytes.Length, status.Size)).CopyTo(new Span<byte>(attachment.Address, (int)status.Size));
    }

    /// <summary>Every segment this process created and has not removed yet (or removed, but still attached), with how
    /// many processes have it attached. The harness owns its process: these are the case's segments and the ones the
    /// store made during the case (new anchors, grown arenas), whatever keys the input led it to.</summary>
    private static List<(int ShmId, long Attached)> OwnSegments()
    {
        var found = new List<(int, long)>();
        foreach (var segment in Procfs.SharedMemorySegments())
        {
            if (segment.CreatorPid == Environment.ProcessId)
            {
                found.Add((segment.ShmId, segment.Attached));
            }
        }

        return found;
    }

    /// <summary>Segments of the store still attached by this process (<c>nattch</c> after the store was disposed).</summary>
    internal List<int> StillAttached()
    {
        var attached = new List<int>();
        foreach (var (shmId, count) in OwnSegments())
        {
            if (count > 0)
            {
                attached.Add(shmId);
            }
        }

        return attached;
    }

    public void Dispose()
    {
        foreach (var (shmId, _) in OwnSegments())
        {
            Libc.Remove(shmId);
        }
    }
}
