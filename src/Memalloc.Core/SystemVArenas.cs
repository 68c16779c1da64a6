using System;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>Arenas as System V segments (every store made before issue 12, and new stores wherever the kernel's System V
/// limits can hold useful ones): ids are shmids, arenas sit at keys derived from the anchor key and the generation.</summary>
internal sealed unsafe class SystemVArenas : ArenaSegments
{
    internal SystemVArenas(int anchorKey)
        : base(anchorKey)
    {
    }

    internal override ArenaBacking Backing => ArenaBacking.SystemV;

    internal override string Describe(int id) => "segment " + id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal override bool KeepsSpare(long capacity) => capacity <= Layout.MaxSpareCapacity && !OperatingSystem.IsMacOS();

    internal override ulong NamespaceStamp => 0;

    internal override string LimitHint => SystemVLimits.Hint(SystemVSetting.MaxSegmentBytes, SystemVSetting.TotalPages);

    internal override SharedMapping? Map(uint uid, int id, ArenaAttachments attachments, out string? foreign)
    {
        foreign = null;
        if (!Libc.TryStat(id, out var status, out var errno))
        {
            return Libc.IsGone(errno) ? null : throw Libc.Failure("shmctl", errno, "Checking the store's arena");
        }

        if (status.IsMarkedForRemoval)
        {
            // IPC_RMID from outside (ipcrm): still attachable by id while someone has it mapped, but every write to it
            // would vanish with the last detach. Treat it as gone.
            return null;
        }

        if (!status.IsOwnedBy(uid, Layout.ArenaHeaderSize))
        {
            foreign = $"segment {id} is not owned by this user with mode 0600 (owner {status.Uid}, creator {status.Cuid}, mode {Convert.ToString(status.PermissionBits, 8)})";
            return null;
        }

        var attachment = attachments.Attach(id, status.Size, out errno);
        if (attachment is null && !Libc.IsGone(errno))
        {
            throw Libc.Failure("shmat", errno, "Attaching the store's arena");
        }

        return attachment;
    }

    internal override SharedMapping? Create(Anchor anchor, uint generation, long capacity, bool growing, ArenaAttachments attachments)
    {
        var key = KeyDerivation.ArenaKey(AnchorKey, generation);
        if (growing)
        {
            anchor.PendingShmId = -1;
            anchor.PendingCapacity = capacity;
            anchor.PendingKey = key;
            anchor.PendingGeneration = generation;
        }

        var shmId = Libc.ShmCreate(key, capacity, out var errno);
        if (shmId < 0)
        {
            return errno == Libc.EEXIST ? null : throw Libc.CreationFailure(errno, capacity, "Creating an arena");
        }

        if (growing)
        {
            anchor.PendingShmId = shmId;
            CrashPoints.Hit?.Invoke("grow.after-shmget");
        }

        var attachment = attachments.Attach(shmId, capacity, out errno);
        if (attachment is null)
        {
            Libc.Remove(shmId);
            throw Libc.Failure("shmat", errno, "Attaching a new arena");
        }

        return attachment;
    }

    internal override SharedMapping? MapSpare(uint uid, int id, long capacity, ArenaAttachments attachments)
    {
        if (!Libc.TryStat(id, out var status, out _) || !status.IsOwnedBy(uid, capacity) || status.IsMarkedForRemoval)
        {
            return null; // gone, not ours, too small, or marked for removal: do not reuse (the growth drops it)
        }

        // Still attached here: no shmat, and its pages are still mapped (no page faults).
        return attachments.TryBorrowAttached(id, capacity) ?? attachments.Attach(id, status.Size, out _);
    }

    internal override bool IsRemoved(SharedMapping mapping) =>
        !Libc.TryStat(mapping.Id, out var status, out _) || status.IsMarkedForRemoval;

    internal override bool Remove(int id) => Libc.Remove(id) == 0;

    internal override void RemoveOwned(uint uid, int id)
    {
        if (Libc.TryStat(id, out var status, out _) && status.IsOwnedBy(uid, Layout.ArenaHeaderSize))
        {
            Libc.Remove(id);
        }
    }

    internal override int IdAt(uint generation) => Libc.ShmLookup(KeyDerivation.ArenaKey(AnchorKey, generation), out _);

    internal override bool TryReadIdentity(uint uid, int id, out ArenaHeader.Identity identity) => TryRead(uid, id, out identity);

    private protected override bool IsPendingLeftover(ArenaHeader.Identity header, int expectedKey, long expectedSize) =>
        expectedKey != 0 && expectedSize > 0 && header.Key == expectedKey && header.Size == expectedSize;

    /// <summary>
    /// Reads the header fields of segment <paramref name="shmId"/> when the kernel says it may be ours (owner and creator
    /// are <paramref name="uid"/>, mode 0600, at least a header long, not marked for removal); false for anything else,
    /// including a segment that vanished. Attaches for the read only; an attachment the process may not make is a capacity
    /// error (EMFILE is never "not ours").
    /// </summary>
    internal static bool TryRead(uint uid, int shmId, out ArenaHeader.Identity identity)
    {
        identity = default;
        if (shmId < 0 || !Libc.TryStat(shmId, out var status, out _) || !status.IsOwnedBy(uid, Layout.ArenaHeaderSize) || status.IsMarkedForRemoval)
        {
            return false;
        }

        using var attachment = AttachmentBudget.Attach(shmId, status.Size, null, out var errno);
        if (attachment is null)
        {
            return Libc.IsGone(errno) || errno == Libc.EACCES ? false : throw Libc.Failure("shmat", errno, "Reading an arena's header");
        }

        identity = ArenaHeader.ReadIdentity(attachment.Address, shmId, status.Key, status.Size);
        return true;
    }
}
