using System;
using System.Globalization;

namespace Memalloc.Core;

/// <summary>
/// Where one store's arenas live, and the system calls that differ between the two backings (docs/store-design.md,
/// "Arena backing"): System V segments (<see cref="SystemVArenas"/>) or POSIX shared memory objects
/// (<see cref="PosixArenas"/>). Everything above speaks of an arena's id, the low half of an arena reference (a shmid, or
/// an object number), and of the <see cref="Native.SharedMapping"/> it is read through. One instance per anchor, made from
/// the anchor's bytes 384..391 (<see cref="Anchor.Arenas"/>).
/// </summary>
internal abstract class ArenaSegments
{
    private protected ArenaSegments(int anchorKey)
    {
        AnchorKey = anchorKey;
    }

    internal int AnchorKey { get; }

    internal abstract ArenaBacking Backing { get; }

    /// <summary>The backing an anchor records (byte 384) with its nonce (byte 388); Corrupt for a value this version does not
    /// know (a newer format, or damage): nothing of such a store is read or written.</summary>
    internal static ArenaSegments For(int anchorKey, uint backing, uint nonce) => backing switch
    {
        (uint)ArenaBacking.SystemV => new SystemVArenas(anchorKey),
        (uint)ArenaBacking.Posix when nonce != 0 => new PosixArenas(anchorKey, nonce),
        _ => throw new MemStoreException(MemStoreErrorKind.Corrupt, string.Create(CultureInfo.InvariantCulture,
            $"The store's anchor names an arena backing this version of Memalloc does not know ({backing}, nonce {nonce:x8}); nothing was read or written. Use the Memalloc version that made the store, or remove the store.")),
    };

    /// <summary>How messages name arena <paramref name="id"/>: "segment 1234", "object /ma.…".</summary>
    internal abstract string Describe(int id);

    /// <summary>Whether a retired arena of this size is kept as the spare for the next compaction (docs/store-design.md,
    /// "Recycling"): at most <see cref="Layout.MaxSpareCapacity"/>, and never a System V one on macOS, whose stock limits
    /// cannot afford a second segment.</summary>
    internal abstract bool KeepsSpare(long capacity);

    /// <summary>What a new arena's header records at <see cref="Layout.ArenaNamespaceOffset"/>: for POSIX arenas on Linux the
    /// creator's IPC namespace, because /dev/shm is shared by every IPC namespace of a mount namespace and only stores of
    /// this namespace may be judged orphaned (<see cref="Orphans"/>); 0 otherwise.</summary>
    internal abstract ulong NamespaceStamp { get; }

    /// <summary>Where the limits of this backing are set, for a capacity error.</summary>
    internal abstract string LimitHint { get; }

    /// <summary>
    /// Maps arena <paramref name="id"/> after the ownership checks, owned by <paramref name="attachments"/>, and returns a
    /// borrow of it. Null when it no longer exists (or is marked for removal), and then <paramref name="foreign"/> is null;
    /// null with <paramref name="foreign"/> saying why when something that is not ours is there (never mapped). Throws
    /// CapacityExceeded when the process may map no more.
    /// </summary>
    internal abstract Native.SharedMapping? Map(uint uid, int id, ArenaAttachments attachments, out string? foreign);

    /// <summary>
    /// Creates a zero-filled arena object of <paramref name="capacity"/> bytes for <paramref name="generation"/>, mode 0600,
    /// never over an existing one (O_EXCL, IPC_EXCL), owned by <paramref name="attachments"/>; returns a borrow. With
    /// <paramref name="growing"/>, records the build in the anchor (pendingGeneration, pendingKey, pendingShmId,
    /// pendingCapacity) in the order recovery needs. Null when something already exists at its key or name.
    /// </summary>
    internal abstract Native.SharedMapping? Create(Anchor anchor, uint generation, long capacity, bool growing, ArenaAttachments attachments);

    /// <summary>A borrow of the spare arena <paramref name="id"/> mapped for recycling into an arena of
    /// <paramref name="capacity"/> bytes, or null when it is gone, removed, not ours or too small (the kernel is asked every
    /// time, even when this process still has it mapped: an operator may have removed it).</summary>
    internal abstract Native.SharedMapping? MapSpare(uint uid, int id, long capacity, ArenaAttachments attachments);

    /// <summary>True when what this process has mapped was removed underneath it (ipcrm, shm_unlink, rm /dev/shm/...):
    /// docs/store-design.md, "The removal check".</summary>
    internal abstract bool IsRemoved(Native.SharedMapping mapping);

    /// <summary>Removes arena <paramref name="id"/>: the caller made sure it is ours. Processes that have it mapped keep their
    /// memory until they unmap it. False when it was gone already.</summary>
    internal abstract bool Remove(int id);

    /// <summary>Removes arena <paramref name="id"/> when it exists and belongs to <paramref name="uid"/> with mode 0600, whatever
    /// its contents (DestroyStore removing the current arena, header damage or not).</summary>
    internal abstract void RemoveOwned(uint uid, int id);

    /// <summary>The id of what sits at generation <paramref name="generation"/>'s key or name (System V: a lookup, -1 when
    /// nothing; POSIX: the object number, which is the generation).</summary>
    internal abstract int IdAt(uint generation);

    /// <summary>The header fields of arena <paramref name="id"/> when it exists and its owner, creator and mode say it may be
    /// ours (<see cref="ArenaHeader.Identity"/>); false otherwise. Maps it for the read only.</summary>
    internal abstract bool TryReadIdentity(uint uid, int id, out ArenaHeader.Identity identity);

    /// <summary>Whether an uninitialised arena (magic 0, which <see cref="IsOurs"/> checked) is what a crashed build left,
    /// where and as large as the anchor recorded it (<paramref name="expectedKey"/>, <paramref name="expectedSize"/>; 0 =
    /// no build recorded). System V: exactly that key and size (a shmid alone may have been reused by anyone). POSIX: that
    /// size or still empty, at the object number the caller asks about, whose name is this store's own.</summary>
    private protected abstract bool IsPendingLeftover(ArenaHeader.Identity header, int expectedKey, long expectedSize);

    /// <summary>
    /// True when arena <paramref name="id"/> (recorded by the anchor as pending, previous or spare, or found at one of its
    /// arena keys or names) is one of this anchor's arenas, so that removing it cannot hurt anything that is not ours. Ours
    /// means: it passes <see cref="TryReadIdentity"/>'s ownership checks, and either it is initialised with this anchor's key
    /// in its header (the proof; with <paramref name="generation"/>, that generation too), or it is not yet initialised
    /// (magic 0) and is what a crashed growth left where it recorded it (<see cref="IsPendingLeftover"/>). Any other segment
    /// is foreign: another program's segment with zero first bytes at a reused shmid or a colliding key must never be
    /// removed as a leftover of ours.
    /// </summary>
    internal bool IsOurs(Anchor anchor, uint uid, int id, int expectedKey = 0, long expectedSize = 0, uint? generation = null)
    {
        if (id < 0 || !TryReadIdentity(uid, id, out var header))
        {
            return false;
        }

        if (header.Magic == Layout.ArenaMagic)
        {
            return header.IsInitialised && header.AnchorKey == anchor.Key && (generation is not { } g || header.Generation == g);
        }

        return header.Magic == 0 && IsPendingLeftover(header, expectedKey, expectedSize);
    }

    /// <summary>Removes what sits at generation <paramref name="generation"/>'s key or name when it is ours
    /// (<see cref="IsOurs"/>: an initialised arena of this generation, or an uninitialised one of
    /// <paramref name="expectedSize"/> where the pending build was) and not the current arena. True when removed; false when
    /// nothing is there or it is foreign (then a growth skips the generation).</summary>
    internal bool RemoveLeftover(Anchor anchor, uint uid, uint generation, int expectedKey, long expectedSize)
    {
        var id = IdAt(generation);
        return id >= 0 && id != Anchor.IdOf(anchor.ArenaRef) && IsOurs(anchor, uid, id, expectedKey, expectedSize, generation) && Remove(id);
    }
}
