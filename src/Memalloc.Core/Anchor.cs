using System;
using System.Text;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// The store's anchor segment: identity, writer lock word, writer state and the reference to the current arena.
/// One page at a key derived from (uid, store name, probe). Finding it is in Anchor.Find.cs, creating it in
/// Anchor.Create.cs, tearing the store down in StoreDestruction.cs.
/// The attachment is owned by whoever found or created the anchor (a store instance, until it is disposed); every arena
/// view and every update turn borrows it, so that a reader still copying from a view never sees the anchor detached.
/// </summary>
internal sealed unsafe partial class Anchor : IDisposable
{
    private readonly SharedMemoryAttachment _attachment;
    private ArenaSegments? _arenas;

    private Anchor(SharedMemoryAttachment attachment, int key)
    {
        _attachment = attachment;
        Address = attachment.Address;
        ShmId = attachment.ShmId;
        Key = key;
    }

    internal byte* Address { get; }

    internal int ShmId { get; }

    internal int Key { get; }

    internal ulong ArenaRef
    {
        get => Volatile.Read(ref *(ulong*)(Address + Layout.ArenaRefOffset));
        set => Volatile.Write(ref *(ulong*)(Address + Layout.ArenaRefOffset), value);
    }

    /// <summary>The retired arena kept for the next compaction (0 = none). Only the lock holder reads or writes it.</summary>
    internal ulong SpareRef
    {
        get => Volatile.Read(ref *(ulong*)(Address + Layout.SpareRefOffset));
        set => Volatile.Write(ref *(ulong*)(Address + Layout.SpareRefOffset), value);
    }

    internal WriterState State
    {
        get => (WriterState)Volatile.Read(ref *(uint*)(Address + Layout.WriterStateOffset));
        set => Volatile.Write(ref *(uint*)(Address + Layout.WriterStateOffset), (uint)value);
    }

    /// <summary>The store's layout version: <see cref="Layout.FirstLayoutVersion"/> until the first coordination record
    /// raises it (under the writer lock, <see cref="MemStore"/>'s RaiseLayoutVersion).</summary>
    internal uint Version
    {
        get => Volatile.Read(ref *(uint*)(Address + Layout.AnchorVersionOffset));
        set => Volatile.Write(ref *(uint*)(Address + Layout.AnchorVersionOffset), value);
    }

    internal long MaxCapacity => *(long*)(Address + Layout.AnchorMaxCapacityOffset);

    /// <summary>Capacity of the store's first arena, the floor compaction never shrinks below; 0 for a store created before
    /// it was recorded.</summary>
    internal long InitialCapacity => *(long*)(Address + Layout.AnchorInitialCapacityOffset);

    /// <summary>The maximum capacity, for computing with: Corrupt when outside what any store can have.</summary>
    internal long CheckedMaxCapacity()
    {
        var maximum = MaxCapacity;
        return Layout.IsValidMaxCapacity(maximum) ? maximum : throw new MemStoreException(MemStoreErrorKind.Corrupt,
            $"The store is corrupt: its anchor's maximum capacity {maximum} is outside {Layout.MinArenaCapacity}..{Layout.MaxCapacityLimit} bytes. Nothing was changed; run Verify, or remove the store.");
    }

    internal uint PendingGeneration
    {
        get => *(uint*)(Address + Layout.PendingGenerationOffset);
        set => *(uint*)(Address + Layout.PendingGenerationOffset) = value;
    }

    internal int PendingKey
    {
        get => *(int*)(Address + Layout.PendingKeyOffset);
        set => *(int*)(Address + Layout.PendingKeyOffset) = value;
    }

    internal int PendingShmId
    {
        get => *(int*)(Address + Layout.PendingShmIdOffset);
        set => *(int*)(Address + Layout.PendingShmIdOffset) = value;
    }

    /// <summary>Size of the segment a growth creates at <see cref="PendingKey"/> (0: unknown, as in anchors written before
    /// it was recorded): recovery takes an uninitialised segment at that key for the crashed growth's only at this size.</summary>
    internal long PendingCapacity
    {
        get => *(long*)(Address + Layout.PendingCapacityOffset);
        set => *(long*)(Address + Layout.PendingCapacityOffset) = value;
    }

    internal int PreviousShmId
    {
        get => *(int*)(Address + Layout.PreviousShmIdOffset);
        set => *(int*)(Address + Layout.PreviousShmIdOffset) = value;
    }

    internal ulong LockWord => Volatile.Read(ref *(ulong*)(Address + Layout.LockWordOffset));

    /// <summary>Unix ms of creation: with the shmid, what tells this store from one made again at the same key.</summary>
    internal long Created => *(long*)(Address + Layout.AnchorCreatedOffset);

    /// <summary>Where the arenas live (anchor byte 384: 0 System V, 1 POSIX; fixed at creation), and the calls that reach
    /// them. Throws Corrupt for a value this version does not know: nothing of such a store is read or written.</summary>
    internal ArenaSegments Arenas => _arenas ??= ArenaSegments.For(Key,
        *(uint*)(Address + Layout.ArenaBackingOffset), *(uint*)(Address + Layout.ArenaNonceOffset));

    internal static uint GenerationOf(ulong arenaRef) => (uint)(arenaRef >> 32);

    /// <summary>The arena's id in a reference: a shmid, or a POSIX object number.</summary>
    internal static int IdOf(ulong arenaRef) => (int)(uint)arenaRef;

    internal static ulong MakeArenaRef(uint generation, int id) => ((ulong)generation << 32) | (uint)id;

    /// <summary>Keeps the anchor attached until <see cref="Return"/>; throws ObjectDisposedException once its owner
    /// disposed it (the store instance was disposed).</summary>
    internal void Borrow()
    {
        if (!_attachment.TryBorrow())
        {
            throw new ObjectDisposedException(nameof(MemStore), "The store was disposed.");
        }
    }

    internal void Return() => _attachment.Return();

    /// <summary>The owner lets go: detached once no view or update turn borrows it any more.</summary>
    public void Dispose() => _attachment.Dispose();

    /// <summary>True when the anchor at <paramref name="address"/> is this user's anchor for this store at this key: magic,
    /// layout version, size, owner, key and store name (case-sensitive) all match.</summary>
    internal static bool HasIdentity(byte* address, int key, uint uid, string storeName)
    {
        if (*(ulong*)(address + Layout.AnchorMagicOffset) != Layout.AnchorMagic
            || !Layout.IsKnownVersion(*(uint*)(address + Layout.AnchorVersionOffset))
            || *(uint*)(address + Layout.AnchorSizeOffset) != Layout.AnchorSize
            || *(uint*)(address + Layout.AnchorOwnerUidOffset) != uid
            || *(int*)(address + Layout.AnchorKeyOffset) != key)
        {
            return false;
        }

        var length = *(uint*)(address + Layout.AnchorStoreNameLengthOffset);
        if (length != storeName.Length)
        {
            return false;
        }

        var stored = new ReadOnlySpan<byte>(address + Layout.AnchorStoreNameOffset, (int)length);
        Span<byte> expected = stackalloc byte[Layout.StoreNameMaxLength];
        var written = Encoding.ASCII.GetBytes(storeName, expected);
        return stored.SequenceEqual(expected[..written]);
    }

    /// <summary>The store name an anchor-shaped segment carries, or null when it is not an anchor of this layout.</summary>
    private static string? ReadStoreName(byte* address)
    {
        if (*(ulong*)(address + Layout.AnchorMagicOffset) != Layout.AnchorMagic
            || !Layout.IsKnownVersion(*(uint*)(address + Layout.AnchorVersionOffset)))
        {
            return null;
        }

        var length = *(uint*)(address + Layout.AnchorStoreNameLengthOffset);
        if (length is 0 or > Layout.StoreNameMaxLength)
        {
            return null;
        }

        return Encoding.ASCII.GetString(address + Layout.AnchorStoreNameOffset, (int)length);
    }
}
