using System;
using System.Buffers.Binary;
using System.Text;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>Creating a store's anchor. The open path (MemStore.Create.cs) creates it claimed and without its magic,
/// creates the first arena, and only then publishes it: an anchor never becomes visible without an arena.</summary>
internal sealed unsafe partial class Anchor
{
    /// <summary>Creates the anchor segment at <paramref name="key"/>, claimed by this process (its lock word) and without its
    /// magic: openers that meet it wait for this process (<see cref="AwaitCreator"/>). Null when another process created a
    /// segment at that key first (scan again). The caller creates the first arena, then <see cref="Publish"/>es, or
    /// <see cref="Abandon"/>s on failure.</summary>
    internal static Anchor? TryCreate(int key, uint uid, string storeName, long maxCapacity, ArenaBacking backing)
    {
        var shmId = Libc.ShmCreate(key, Layout.AnchorSize, out var errno);
        if (shmId < 0)
        {
            if (errno == Libc.EEXIST)
            {
                return null;
            }

            throw Libc.CreationFailure(errno, Layout.AnchorSize, $"Creating store '{storeName}'");
        }

        var attachment = AttachmentBudget.Attach(shmId, Layout.AnchorSize, null, out errno);
        if (attachment is null)
        {
            Libc.Remove(shmId);
            throw Libc.Failure("shmat", errno, $"Attaching the new store '{storeName}'");
        }

        // Claim the new segment at once (shmget zero-fills it): openers wait for a live claimant instead of creating a
        // second anchor at another probe, and remove the segment if the claimant dies (AwaitCreator).
        var address = attachment.Address;
        Volatile.Write(ref *(ulong*)(address + Layout.LockWordOffset), WriterLock.OwnWord);
        var anchor = new Anchor(attachment, key);
        *(uint*)(address + Layout.AnchorVersionOffset) = Layout.FirstLayoutVersion;
        *(uint*)(address + Layout.AnchorSizeOffset) = Layout.AnchorSize;
        *(uint*)(address + Layout.AnchorOwnerUidOffset) = uid;
        *(uint*)(address + Layout.AnchorStoreNameLengthOffset) = (uint)storeName.Length;
        Encoding.ASCII.GetBytes(storeName, new Span<byte>(address + Layout.AnchorStoreNameOffset, Layout.StoreNameMaxLength));
        *(int*)(address + Layout.AnchorKeyOffset) = key;
        *(long*)(address + Layout.AnchorMaxCapacityOffset) = maxCapacity;
        *(long*)(address + Layout.AnchorCreatedOffset) = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        *(uint*)(address + Layout.ArenaBackingOffset) = (uint)backing;
        *(uint*)(address + Layout.ArenaNonceOffset) = backing == ArenaBacking.Posix ? NewNonce() : 0;
        anchor.PendingShmId = -1;
        anchor.PreviousShmId = -1;
        return anchor;
    }

    /// <summary>The random, non-zero part of a POSIX store's arena names (anchor byte 388): the POSIX namespace is the
    /// whole machine's, and names another user could compute could be squatted ahead of every growth. From
    /// Guid.NewGuid, whose first four bytes the runtime draws from the system's secure random source (getrandom,
    /// arc4random) on Unix: RandomNumberGenerator would load OpenSSL on Linux, which aborts a process on a system
    /// without libssl (met in the arm64 pass).</summary>
    private static uint NewNonce()
    {
        Span<byte> bytes = stackalloc byte[16];
        uint nonce;
        do
        {
            Guid.NewGuid().TryWriteBytes(bytes);
            nonce = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        }
        while (nonce == 0);

        return nonce;
    }

    /// <summary>Makes a created anchor visible with its first arena (<paramref name="arenaRef"/>, of
    /// <paramref name="capacity"/> bytes: the floor compaction never shrinks below), gives up the claim, and sets the
    /// magic last.</summary>
    internal void Publish(ulong arenaRef, long capacity)
    {
        ArenaRef = arenaRef;
        *(long*)(Address + Layout.AnchorInitialCapacityOffset) = capacity;
        CrashPoints.Hit?.Invoke("create.before-magic");

        // The claim ends before the magic appears, so the word is free when the first writer comes (a waiter that
        // sees magic 0 and word 0 in between checks the creator pid, which is alive).
        Volatile.Write(ref *(ulong*)(Address + Layout.LockWordOffset), 0UL);

        // Last: the magic makes the anchor visible to everyone scanning for it.
        Volatile.Write(ref *(ulong*)(Address + Layout.AnchorMagicOffset), Layout.AnchorMagic);
    }

    /// <summary>A creation that failed before <see cref="Publish"/>: the segment goes (openers waiting on it see it
    /// removed and create at its key), and this process lets go of it.</summary>
    internal void Abandon()
    {
        Libc.Remove(ShmId);
        Dispose();
    }
}
