using System;
using System.Globalization;
using System.Runtime.InteropServices;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// Arenas as POSIX shared memory objects, where System V is too small (macOS's stock limits: docs/store-design.md, "Arena
/// backing"). An arena's id is its object number, the generation it was created for; its name
/// <c>/ma.KKKKKKKK.NNNNNNNN.OOOOOOOO</c> adds the anchor key and the store's random nonce. Every object is checked with fstat
/// (this user, mode 0600, on Linux a regular file) before it is mapped; the descriptor is closed once mapped.
/// </summary>
internal sealed unsafe class PosixArenas : ArenaSegments
{
    internal PosixArenas(int anchorKey, uint nonce)
        : base(anchorKey)
    {
        Nonce = nonce;
    }

    /// <summary>The store's random part of every arena name (anchor byte 388), never 0.</summary>
    internal uint Nonce { get; }

    internal override ArenaBacking Backing => ArenaBacking.Posix;

    internal string Name(int id) => ArenaBackingChoice.PosixArenaName(AnchorKey, Nonce, (uint)id);

    internal override string Describe(int id) => "object " + Name(id);

    internal override bool KeepsSpare(long capacity) => capacity <= Layout.MaxSpareCapacity;

    internal override ulong NamespaceStamp => s_namespace;

    /// <summary>This process's IPC namespace (Linux), read once: a process does not change namespaces under the store.</summary>
    private static readonly ulong s_namespace = OperatingSystem.IsLinux() ? Procfs.IpcNamespaceInode ?? 0 : 0;

    internal override string LimitHint => OperatingSystem.IsMacOS()
        ? "POSIX shared memory is limited by the memory of the machine."
        : "POSIX shared memory lives in /dev/shm, a tmpfs whose size limits it (see 'df -h /dev/shm'; its size= mount option raises it).";

    internal override SharedMapping? Map(uint uid, int id, ArenaAttachments attachments, out string? foreign)
    {
        foreign = null;
        var name = Name(id);
        var fd = PosixSharedMemory.Open(name, out var errno);
        if (fd < 0)
        {
            if (errno == Libc.ENOENT)
            {
                return null;
            }

            foreign = errno == Libc.EACCES ? $"object {name} is not this user's" : null;
            return foreign is null ? throw Failure("shm_open", errno, $"Opening the store's arena {name}") : null;
        }

        try
        {
            var status = Stat(fd, name);
            foreign = OwnershipProblem(status, uid, Layout.ArenaHeaderSize);
            return foreign is null ? attachments.Adopt(MapObject(fd, id, status, name)) : null;
        }
        finally
        {
            PosixSharedMemory.Close(fd);
        }
    }

    internal override SharedMapping? Create(Anchor anchor, uint generation, long capacity, bool growing, ArenaAttachments attachments)
    {
        var id = (int)generation;
        var name = Name(id);
        if (growing)
        {
            // The name is known before the object exists: recorded first, so that recovery finds an object a crash left
            // anywhere between shm_open and the publish (pendingKey stays 0: POSIX arenas have no keys).
            anchor.PendingCapacity = capacity;
            anchor.PendingKey = 0;
            anchor.PendingGeneration = generation;
            anchor.PendingShmId = id;
        }

        var fd = PosixSharedMemory.Create(name, capacity, out var errno);
        if (fd < 0)
        {
            return errno == Libc.EEXIST ? null : throw Failure("shm_open", errno, $"Creating an arena of {capacity} bytes ({name})");
        }

        if (growing)
        {
            CrashPoints.Hit?.Invoke("grow.after-shmget");
        }

        try
        {
            var status = Stat(fd, name);
            if (OwnershipProblem(status, Libc.GetUid(), capacity) is { } problem)
            {
                throw new MemStoreException(MemStoreErrorKind.PermissionDenied,
                    $"The new arena {name} was created with mode 0600 but {problem}: a umask that takes the owner's read or write permission away (umask {Convert.ToString(status.Permissions ^ PosixSharedMemory.OwnerReadWrite, 8)} at least) makes stores unusable. Use a umask such as 077 or 022.");
            }

            return attachments.Adopt(MapObject(fd, id, status, name));
        }
        catch (MemStoreException)
        {
            PosixSharedMemory.Unlink(name);
            throw;
        }
        finally
        {
            PosixSharedMemory.Close(fd);
        }
    }

    internal override SharedMapping? MapSpare(uint uid, int id, long capacity, ArenaAttachments attachments)
    {
        var mapping = attachments.TryBorrowAttached(id, capacity);
        if (mapping is not null)
        {
            if (!IsRemoved(mapping))
            {
                return mapping; // still mapped here and still at its name: no page faults
            }

            mapping.Return();
            return null;
        }

        mapping = Map(uid, id, attachments, out _);
        if (mapping is not null && mapping.Size < capacity)
        {
            mapping.Return();
            attachments.Drop(mapping);
            return null;
        }

        return mapping;
    }

    /// <summary>The object at the name is no longer the one mapped: gone (shm_unlink, rm /dev/shm/...), or replaced. Linux
    /// compares device and inode; macOS, whose fstat of a shm object gives only mode, owner and size (bsd/kern/posix_shm.c,
    /// pshm_stat), compares those. Three system calls; an answer that cannot be had (EMFILE, say) is "not removed".</summary>
    internal override bool IsRemoved(SharedMapping mapping)
    {
        var fd = PosixSharedMemory.Open(Name(mapping.Id), out var errno);
        if (fd < 0)
        {
            return errno is Libc.ENOENT or Libc.EACCES;
        }

        try
        {
            if (!PosixSharedMemory.TryStat(fd, out var now, out _) || mapping is not PosixMapping { Status: var then })
            {
                return false;
            }

            return OperatingSystem.IsMacOS()
                ? now.Uid != then.Uid || now.Permissions != then.Permissions || now.Size != then.Size
                : now.Device != then.Device || now.Inode != then.Inode;
        }
        finally
        {
            PosixSharedMemory.Close(fd);
        }
    }

    internal override bool Remove(int id) => PosixSharedMemory.Unlink(Name(id)) == 0;

    internal override void RemoveOwned(uint uid, int id)
    {
        var fd = PosixSharedMemory.Open(Name(id), out _);
        if (fd < 0)
        {
            return;
        }

        var owned = PosixSharedMemory.TryStat(fd, out var status, out _) && OwnershipProblem(status, uid, 0) is null;
        PosixSharedMemory.Close(fd);
        if (owned)
        {
            Remove(id);
        }
    }

    internal override int IdAt(uint generation) => (int)generation;

    internal override bool TryReadIdentity(uint uid, int id, out ArenaHeader.Identity identity)
    {
        identity = default;
        var fd = PosixSharedMemory.Open(Name(id), out _);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            if (!PosixSharedMemory.TryStat(fd, out var status, out _) || OwnershipProblem(status, uid, 0) is not null)
            {
                return false;
            }

            if (status.Size < Layout.ArenaHeaderSize)
            {
                // Created, not yet sized (a crash between shm_open and ftruncate): no header, magic 0.
                identity = new ArenaHeader.Identity(id, 0, status.Size, 0, 0, 0, 0, 0);
                return true;
            }

            var length = Math.Min(status.Size, Environment.SystemPageSize);
            var address = PosixSharedMemory.Map(fd, length, out _);
            if (address is null)
            {
                return false;
            }

            identity = ArenaHeader.ReadIdentity(address, id, 0, status.Size);
            PosixSharedMemory.Unmap(address, length);
            return true;
        }
        finally
        {
            PosixSharedMemory.Close(fd);
        }
    }

    /// <summary>Uninitialised leftovers of the recorded build: exactly its size, or empty (a crash between shm_open and
    /// ftruncate). Nobody else can make an object of this user at a name with this store's nonce.</summary>
    private protected override bool IsPendingLeftover(ArenaHeader.Identity header, int expectedKey, long expectedSize) =>
        expectedSize > 0 && (header.Size == expectedSize || header.Size == 0);

    /// <summary>Maps the whole object read-write and shared. Issue 15's madvise (huge pages) belongs here, the one place an
    /// arena object is mapped.</summary>
    private static PosixMapping MapObject(int fd, int id, in FileStatus status, string name)
    {
        var address = PosixSharedMemory.Map(fd, status.Size, out var errno);
        return address is null ? throw Failure("mmap", errno, $"Mapping the arena {name}") : new PosixMapping((IntPtr)address, id, status);
    }

    private static FileStatus Stat(int fd, string name) =>
        PosixSharedMemory.TryStat(fd, out var status, out var errno) ? status : throw Failure("fstat", errno, $"Checking the arena {name}");

    /// <summary>Why an object may not be one of <paramref name="uid"/>'s arenas, or null: another owner, any mode but 0600,
    /// on Linux not a regular file (a planted symlink is not followed: glibc opens with O_NOFOLLOW), fewer than
    /// <paramref name="minimumSize"/> bytes.</summary>
    private static string? OwnershipProblem(in FileStatus status, uint uid, long minimumSize) =>
        status.Uid != uid ? $"it belongs to uid {status.Uid}"
        : status.Permissions != PosixSharedMemory.OwnerReadWrite ? $"its mode is {Convert.ToString(status.Permissions, 8)}, not 600"
        : !OperatingSystem.IsMacOS() && !status.IsRegularFile ? "it is not a regular file"
        : status.Size < minimumSize ? string.Create(CultureInfo.InvariantCulture, $"it has only {status.Size} bytes")
        : null;

    /// <summary>A failed POSIX call as the one exception the store throws: no space (a full /dev/shm, or no memory) is a
    /// capacity error naming where the limit is; anything else goes through <see cref="Libc.Failure"/>.</summary>
    private static MemStoreException Failure(string function, int errno, string what) => errno is Libc.ENOSPC or Libc.ENOMEM
        ? new MemStoreException(MemStoreErrorKind.CapacityExceeded,
            $"{what}: {function} failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}). " + (OperatingSystem.IsMacOS()
                ? "The machine is short of memory."
                : "/dev/shm (a tmpfs) is full or the machine is short of memory: see 'df -h /dev/shm'; its size= mount option raises it."),
            function, errno)
        : Libc.Failure(function, errno, what);
}
