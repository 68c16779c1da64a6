using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Hashing;
using System.Text;
using System.Text.Unicode;
using System.Threading;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>Options used only when a store is created; an existing store keeps the values it was created with.</summary>
public sealed class MemStoreOptions
{
    /// <summary>Arena size at creation, in bytes (rounded up to whole pages).</summary>
    public long InitialCapacity { get; init; } = 1L << 20;

    /// <summary>Largest arena the store may grow to; null picks a large fraction of what the kernel allows
    /// (environment variable MEMALLOC_MAX_CAPACITY overrides the default).</summary>
    public long? MaxCapacity { get; init; }
}

/// <summary>
/// The facade of the core: one named store of the current user in System V shared memory.
/// Thread-safe; one instance per store per process is enough (the cmdlets cache them).
/// Disposing detaches this process's mappings; the store itself persists until <see cref="Destroy"/> or reboot.
/// Reads are lock-free (see docs/store-design.md); writes take the process lock, then the anchor's lock word.
/// </summary>
public sealed unsafe class MemStore : IDisposable
{
    /// <summary>How often (at most) the write path asks the kernel whether the anchor was removed by someone who did not
    /// mark it (ipcrm, systemd RemoveIPC). Destroy through this library marks the anchor and is seen at once.</summary>
    private const long RemovalCheckIntervalMs = 250;

    /// <summary>The anchor's mapping, referenced by this instance from construction until <see cref="Dispose"/> (released
    /// after the views), so that the lock word and the arena reference never move under a call in progress.</summary>
    private readonly Anchor anchor;
    private readonly uint uid;
    private readonly object processLock;
    private readonly object viewLock = new();
    private ArenaView? current;

    /// <summary>The mapping of the arena that was current before <see cref="current"/>, kept attached: compaction
    /// alternates between two arenas, and reusing the attachment avoids shmat and page faults on every switch.</summary>
    private Mapping? retired;
    private long lastRemovalCheck;
    private int disposed;

    /// <summary>Takes over the caller's reference on <paramref name="anchor"/> once constructed.</summary>
    private MemStore(string name, Anchor anchor, uint uid)
    {
        Name = name;
        this.anchor = anchor;
        this.uid = uid;
        processLock = WriterLock.ProcessLockFor(anchor.Key);
        lastRemovalCheck = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var attempt = 0; current is null; attempt++)
        {
            var arenaRef = anchor.ArenaRef;
            try
            {
                current = ArenaView.Attach(anchor, uid, arenaRef);
            }
            catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.Corrupt && anchor.ArenaRef != arenaRef && attempt < 100)
            {
                continue; // compacted while we attached
            }

            if (current is null && anchor.ArenaRef == arenaRef && attempt < 5000 && IsHeldByLiveProcess(anchor.LockWord))
            {
                // A live writer holds the lock: a DestroyStore removes the arena before it marks the anchor, so
                // wait for the mark (or a growth's new reference) rather than call the store broken.
                Thread.Sleep(1);
                continue;
            }

            if (current is null && (anchor.ArenaRef == arenaRef || attempt >= 100))
            {
                throw arenaRef == Layout.RemovedArenaRef ? Removed(name) : new MemStoreException(MemStoreErrorKind.StoreRemoved,
                    $"Store '{name}' is broken: its anchor names arena segment {Anchor.ShmIdOf(arenaRef)}, which no longer exists (removed by 'ipcrm' or by " +
                    "systemd-logind with RemoveIPC=yes). Its data is gone: remove the store (Remove-MemStore, or MemStore.DestroyStore) and it will be created anew.");
            }
        }
    }

    private static bool IsHeldByLiveProcess(ulong lockWord) => lockWord != 0 && !WriterLock.IsOwnerDead(lockWord);

    /// <summary>Opens the store of the current user with this name, creating it when missing.</summary>
    public static MemStore Open(string storeName, MemStoreOptions? options = null)
    {
        return OpenCore(storeName, options ?? new MemStoreOptions(), create: true)!;
    }

    /// <summary>Opens an existing store; null when the current user has no store of that name.</summary>
    public static MemStore? OpenExisting(string storeName) => OpenCore(storeName, null, create: false);

    private static MemStore? OpenCore(string storeName, MemStoreOptions? options, bool create)
    {
        ValidateStoreName(storeName);
        EnsureSupportedPlatform();
        var uid = Libc.GetUid();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var anchor = Anchor.Find(uid, storeName, out var freeKey);
            if (anchor is null)
            {
                if (!create)
                {
                    return null;
                }

                if (freeKey == 0)
                {
                    throw new MemStoreException(MemStoreErrorKind.ForeignSegment,
                        $"Store '{storeName}' cannot be created: all {KeyDerivation.AnchorProbes} keys derived for it are taken by segments that are not this user's store. " +
                        "Inspect them with 'ipcs -m' and remove the stale ones.");
                }

                var initial = Math.Max(Arena.MinCapacity, Arena.RoundToPages(options!.InitialCapacity));
                var maximum = StoreEnvironment.MaxCapacityFor(options);
                anchor = Anchor.TryCreate(freeKey, uid, storeName, Math.Min(initial, Math.Max(maximum, Arena.MinCapacity)), Math.Max(maximum, initial));
                if (anchor is null)
                {
                    continue; // another process created a segment at that key first: scan again
                }
            }

            MemStore? store = null;
            try
            {
                store = new MemStore(storeName, anchor, uid);
                return store;
            }
            catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.StoreRemoved && anchor.ArenaRef == Layout.RemovedArenaRef)
            {
                // Destroyed between finding and attaching: look again (a broken store's error goes to the caller).
            }
            finally
            {
                if (store is null)
                {
                    anchor.Release(); // a store that was made owns the reference until it is disposed
                }
            }
        }

        throw new MemStoreException(MemStoreErrorKind.StoreRemoved, $"Store '{storeName}' kept disappearing while being opened.");
    }

    private static void EnsureSupportedPlatform()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            throw new MemStoreException(MemStoreErrorKind.PlatformNotSupported, "Memalloc needs System V shared memory: Linux or macOS.");
        }
    }

    /// <summary>Names of the current user's stores on this machine (IPC namespace), sorted ordinally.</summary>
    public static IReadOnlyList<string> ListStoreNames()
    {
        EnsureSupportedPlatform();
        Libc.EnsureInitialized();
        var uid = Libc.GetUid();
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (key, shmId) in CandidateAnchors(uid))
        {
            if (!Libc.TryStat(shmId, out var status, out _) || !Anchor.IsOwnedByUs(status, uid, Layout.AnchorSize) || status.Size != Layout.AnchorSize)
            {
                continue;
            }

            var address = Libc.ShmAt(shmId, out _);
            if (address == null)
            {
                continue;
            }

            try
            {
                var name = Anchor.ReadStoreName(address);
                if (name is not null && IsValidStoreName(name) && Anchor.HasIdentity(address, key, uid, name)
                    && Volatile.Read(ref *(ulong*)(address + Layout.ArenaRefOffset)) != Layout.RemovedArenaRef)
                {
                    names.Add(name);
                }
            }
            finally
            {
                Libc.ShmDt(address);
            }
        }

        return [.. names];
    }

    /// <summary>Segments that may be anchors of this user (owned and created by them, anchor-sized, not IPC_PRIVATE).</summary>
    private static List<(int Key, int ShmId)> CandidateAnchors(uint uid)
    {
        var result = new List<(int, int)>();
        foreach (var segment in OwnSegments(uid))
        {
            if (segment.Size == Layout.AnchorSize && segment.Key != 0)
            {
                result.Add((segment.Key, segment.ShmId));
            }
        }

        return result;
    }

    /// <summary>Every segment whose owner and creator are <paramref name="uid"/>, as the kernel lists them: Linux lists
    /// every segment in /proc/sysvipc/shm. macOS has no such list without sysctl plumbing, so there only stores this process
    /// can name are found (none): documented.</summary>
    internal static List<(int Key, int ShmId, long Size)> OwnSegments(uint uid)
    {
        var result = new List<(int, int, long)>();
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/sysvipc/shm"))
        {
            return result;
        }

        var first = true;
        foreach (var line in File.ReadLines("/proc/sysvipc/shm"))
        {
            if (first)
            {
                first = false;
                continue;
            }

            // key shmid perms size cpid lpid nattch uid gid cuid cgid ...
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 11
                || !int.TryParse(fields[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var key)
                || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var shmId)
                || !long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
                || !uint.TryParse(fields[7], NumberStyles.None, CultureInfo.InvariantCulture, out var owner)
                || !uint.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out var creator))
            {
                continue;
            }

            if (owner == uid && creator == uid)
            {
                result.Add((key, shmId, size));
            }
        }

        return result;
    }

    /// <summary>Arenas and spares of the current user whose store's anchor segment is gone (removed by hand: ipcrm,
    /// systemd-logind's RemoveIPC), grouped by the anchor key their headers name. Nothing can reach their stacks.</summary>
    public static IReadOnlyList<OrphanedSegments> ListOrphanedSegments()
    {
        EnsureSupportedPlatform();
        return Orphans.List(Libc.GetUid());
    }

    /// <summary>Removes the orphaned segments that name <paramref name="anchorKey"/> (each checked again first: ours, an
    /// arena, its anchor still gone); returns how many were removed.</summary>
    public static int RemoveOrphanedSegments(int anchorKey)
    {
        EnsureSupportedPlatform();
        return Orphans.Remove(Libc.GetUid(), anchorKey);
    }

    /// <summary>Removes a store's segments; false when it did not exist. Processes that still have it open get
    /// <see cref="MemStoreErrorKind.StoreRemoved"/> on their next call.</summary>
    public static bool DestroyStore(string storeName)
    {
        ValidateStoreName(storeName);
        EnsureSupportedPlatform();
        var uid = Libc.GetUid();
        var anchor = Anchor.Find(uid, storeName, out _);
        if (anchor is null)
        {
            return false;
        }

        try
        {
            DestroyAnchor(anchor, uid);
        }
        finally
        {
            anchor.Release();
        }

        return true;
    }

    /// <summary>Under the writer lock (so no growth publishes behind us): mark the anchor removed, then remove the
    /// arena and the anchor. The mark is what other processes' open instances see without a system call.</summary>
    private static void DestroyAnchor(Anchor anchor, uint uid)
    {
        lock (WriterLock.ProcessLockFor(anchor.Key))
        {
            WriterLock.Acquire(anchor.Address);
            try
            {
                CrashPoints.Hit?.Invoke("destroy.after-lock");
                if (anchor.State == WriterState.Growing)
                {
                    Compaction.RecoverGrowth(anchor, uid);
                }

                var spare = anchor.SpareRef;
                if (spare != 0 && Arena.IsOurs(anchor, uid, Anchor.ShmIdOf(spare)))
                {
                    Libc.Remove(Anchor.ShmIdOf(spare));
                }

                // The arena goes first, while the anchor still names it: a destroyer killed after this leaves an
                // anchor whose arena is gone (Open says StoreRemoved, DestroyStore finishes the job); killed after the
                // mark below, a marked anchor that the next Find removes. Marking first would lose the only
                // reference to the arena, leaking it until reboot.
                var arenaRef = anchor.ArenaRef;
                if (arenaRef != Layout.RemovedArenaRef)
                {
                    var arenaId = Anchor.ShmIdOf(arenaRef);
                    if (Libc.TryStat(arenaId, out var status, out _) && Anchor.IsOwnedByUs(status, uid, Layout.ArenaHeaderSize))
                    {
                        Libc.Remove(arenaId);
                    }
                }

                CrashPoints.Hit?.Invoke("destroy.after-arena-rmid");
                anchor.ArenaRef = Layout.RemovedArenaRef;
                anchor.State = WriterState.Idle;
                CrashPoints.Hit?.Invoke("destroy.after-mark");
                var errno = Libc.Remove(anchor.ShmId);
                if (errno != 0 && errno != Libc.EINVAL && errno != Libc.EIDRM)
                {
                    throw Libc.Failure("shmctl", errno, "Removing the store's anchor");
                }
            }
            finally
            {
                // Writers of other processes may be waiting on the word: let them in to see the removal mark.
                WriterLock.Release(anchor.Address);
            }
        }
    }

    /// <summary>Throws <see cref="MemStoreErrorKind.InvalidName"/> unless the name is 1 to 255 UTF-8 bytes without control characters.</summary>
    public static void ValidateName(string name)
    {
        Span<byte> buffer = stackalloc byte[Layout.MaxNameBytes];
        EncodeName(name, buffer);
    }

    /// <summary>Throws <see cref="MemStoreErrorKind.InvalidStoreName"/> unless valid.</summary>
    public static void ValidateStoreName(string storeName)
    {
        if (!IsValidStoreName(storeName))
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidStoreName,
                $"Store name '{storeName}' is not valid: use 1 to {Layout.StoreNameMaxLength} characters of letters A-Z and a-z, digits, '.', '_' or '-'.");
        }
    }

    private static bool IsValidStoreName(string? storeName)
    {
        if (string.IsNullOrEmpty(storeName) || storeName.Length > Layout.StoreNameMaxLength)
        {
            return false;
        }

        foreach (var c in storeName)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Checks a stack name and encodes it to UTF-8 into <paramref name="buffer"/> (255 bytes); returns the length.</summary>
    private static int EncodeName(string name, Span<byte> buffer)
    {
        if (name is null)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidName, "A stack name is required; it was null.");
        }

        if (name.Length == 0)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidName, "A stack name must not be empty.");
        }

        // Fast path, one pass: printable ASCII is valid and is its own UTF-8.
        if (name.Length <= buffer.Length)
        {
            var ascii = 0;
            for (; ascii < name.Length; ascii++)
            {
                var c = name[ascii];
                if (c < 0x20 || c >= 0x7F)
                {
                    break;
                }

                buffer[ascii] = (byte)c;
            }

            if (ascii == name.Length)
            {
                return ascii;
            }
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsControl(c))
            {
                throw new MemStoreException(MemStoreErrorKind.InvalidName,
                    $"Stack name '{Printable(name)}' contains the control character U+{(int)c:X4} at position {i}; names must not contain control characters.");
            }

            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                throw new MemStoreException(MemStoreErrorKind.InvalidName,
                    $"Stack name '{Printable(name)}' contains a lone surrogate U+{(int)c:X4} at position {i}; names must be valid Unicode text.");
            }
        }

        var status = Utf8.FromUtf16(name, buffer, out _, out var written, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidName,
                $"Stack name '{(name.Length > 40 ? name[..40] + "..." : name)}' is {Encoding.UTF8.GetByteCount(name)} UTF-8 bytes long; the limit is {Layout.MaxNameBytes}.");
        }

        return written;
    }

    private static string Printable(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsControl(c) || char.IsSurrogate(c) ? '?' : c);
        }

        return builder.ToString();
    }

    public string Name { get; }

    // ---------------------------------------------------------------- views

    /// <summary>Takes a reference on the current arena view, following the anchor to a new generation when it moved.
    /// No system call unless the generation changed.</summary>
    private ArenaView Enter()
    {
        while (true)
        {
            var view = Volatile.Read(ref current);
            if (view is null)
            {
                throw new ObjectDisposedException(nameof(MemStore), $"Store '{Name}' was disposed.");
            }

            if (!view.TryEnter())
            {
                continue; // replaced and released in between: read current again
            }

            if (view.Anchor.ArenaRef == view.ArenaRef)
            {
                return view;
            }

            view.Exit();
            Follow();
        }
    }

    /// <summary>Attaches the arena the anchor names now and makes it current (releasing the store's reference on the old
    /// view, which is detached once no operation uses it any more).</summary>
    private void Follow()
    {
        lock (viewLock)
        {
            var old = Volatile.Read(ref current) ?? throw new ObjectDisposedException(nameof(MemStore), $"Store '{Name}' was disposed.");
            for (var attempt = 0; attempt < 100; attempt++)
            {
                var arenaRef = anchor.ArenaRef;
                if (arenaRef == old.ArenaRef)
                {
                    return;
                }

                if (arenaRef == Layout.RemovedArenaRef)
                {
                    throw Removed(Name);
                }

                ArenaView? view;
                try
                {
                    var retiredMapping = Volatile.Read(ref retired);
                    var known = retiredMapping is not null && retiredMapping.ShmId == Anchor.ShmIdOf(arenaRef) ? retiredMapping : old.Mapping;
                    view = ArenaView.Attach(anchor, uid, arenaRef, known);
                }
                catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.Corrupt && anchor.ArenaRef != arenaRef)
                {
                    continue; // recycled again between our load of the reference and the attach: follow again
                }

                if (view is not null)
                {
                    Replace(old, view);
                    return;
                }

                if (anchor.ArenaRef == arenaRef)
                {
                    // The anchor names an arena that no longer exists: removed underneath us (ipcrm).
                    throw Removed(Name);
                }
            }

            throw Removed(Name);
        }
    }

    private static MemStoreException Removed(string name) => new(MemStoreErrorKind.StoreRemoved,
        $"Store '{name}' was removed while open (by Remove-MemStore or DestroyStore, by 'ipcrm', or by systemd-logind with RemoveIPC=yes when the user's last session ended). " +
        "Open it again to start a new, empty store.");

    /// <summary>
    /// Asks the kernel (one IPC_STAT) whether this store's segments were removed underneath this process, and throws
    /// <see cref="MemStoreErrorKind.StoreRemoved"/> if so. A removal through <see cref="DestroyStore"/> is seen by every
    /// call at once, but one from outside (ipcrm, systemd-logind's RemoveIPC) leaves the mapping working and only
    /// IPC_STAT can tell; writes ask at most every 250 ms to keep the write path free of system calls. A caller that
    /// must not report a write as done when it went into removed segments calls this after the write.
    /// </summary>
    public void EnsureNotRemoved()
    {
        var view = Enter();
        try
        {
            CheckNotRemoved(view, force: true, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }
        finally
        {
            view.Exit();
        }
    }

    /// <summary>The kernel's view of the anchor, asked at most every <see cref="RemovalCheckIntervalMs"/> ms on the write path:
    /// an unmarked removal (ipcrm) leaves our mapping working, so only IPC_STAT can tell. The caller holds an operation
    /// reference on <paramref name="view"/> (the arena it is about to use), which also keeps the anchor mapped.</summary>
    private void CheckNotRemoved(ArenaView view, bool force, long now)
    {
        if (!force && now - Volatile.Read(ref lastRemovalCheck) < RemovalCheckIntervalMs)
        {
            return;
        }

        Volatile.Write(ref lastRemovalCheck, now);
        if (!Libc.TryStat(anchor.ShmId, out var status, out _) || status.Key != anchor.Key
            || (OperatingSystem.IsLinux() && (status.Mode & LinuxAbi.SHM_DEST) != 0))
        {
            throw Removed(Name);
        }

        // The arena can be removed alone (ipcrm of its shmid). A growth also removes the arena it replaces, but only
        // after publishing the new one: so a removed arena that the anchor still names is a removal from outside.
        if ((!Libc.TryStat(view.ShmId, out var arenaStatus, out _) || ArenaView.IsMarkedForRemoval(arenaStatus))
            && anchor.ArenaRef == view.ArenaRef)
        {
            throw Removed(Name);
        }
    }

    // ---------------------------------------------------------------- reads

    /// <summary>The value of a stack, or null when it does not exist or has expired. Lock-free.</summary>
    public byte[]? Get(string name)
    {
        var none = 0;
        return ReadRecord(name, ref none, static (ArenaView view, long offset, ref int _) => offset < 0 ? null : Heap.ReadValue(view, offset));
    }

    /// <summary>
    /// Copies a stack's value into <paramref name="destination"/> without allocating. Returns the value's length, or -1
    /// when the stack does not exist or has expired. When the value is longer than <paramref name="destination"/>,
    /// nothing is copied and the return value is the length needed. Lock-free.
    /// </summary>
    public long CopyValue(string name, Span<byte> destination)
    {
        fixed (byte* pointer = destination)
        {
            var target = ((IntPtr)pointer, destination.Length);
            return ReadRecord(name, ref target, static (ArenaView view, long offset, ref (IntPtr Pointer, int Length) d) =>
                offset < 0 ? -1 : Heap.CopyValue(view, offset, new Span<byte>((void*)d.Pointer, d.Length)));
        }
    }

    /// <summary>Value and metadata in one consistent snapshot. Lock-free.</summary>
    public bool TryGet(string name, out StackEntry? entry)
    {
        var names = (name, Name);
        // One record, immutable while the arena's generation holds: value and metadata cannot disagree.
        entry = ReadRecord(name, ref names, static (ArenaView view, long offset, ref (string Stack, string Store) n) =>
            offset < 0 ? null : new StackEntry { Data = Heap.ReadValue(view, offset), Info = Heap.ReadInfo(view, offset, n.Stack, n.Store) });
        return entry is not null;
    }

    /// <summary>Metadata only (no copy of the value); null when missing or expired. Lock-free.</summary>
    public StackInfo? GetInfo(string name)
    {
        var names = (name, Name);
        return ReadRecord(name, ref names, static (ArenaView view, long offset, ref (string Stack, string Store) n) =>
            offset < 0 ? null : Heap.ReadInfo(view, offset, n.Stack, n.Store));
    }

    /// <summary>True when the stack exists and has not expired. Lock-free.</summary>
    public bool Exists(string name)
    {
        var none = 0;
        return ReadRecord(name, ref none, static (ArenaView _, long offset, ref int _) => offset >= 0);
    }

    /// <summary>What one read takes from the name's live record; <c>offset</c> is -1 when the stack is missing or expired.</summary>
    private delegate T RecordReader<TState, T>(ArenaView view, long offset, ref TState state);

    /// <summary>
    /// The lock-free read protocol (docs/store-design.md, "Reads"), in one place for every kind of read: find the name's
    /// live record in the current arena, let <paramref name="read"/> copy what it needs, and start again when the arena
    /// was recycled meanwhile, so that a result (a value, "missing", or a corruption report) counts only if it came
    /// from one generation.
    /// </summary>
    private T ReadRecord<TState, T>(string name, ref TState state, RecordReader<TState, T> read)
    {
        Span<byte> nameBytes = stackalloc byte[Layout.MaxNameBytes];
        nameBytes = nameBytes[..EncodeName(name, nameBytes)];
        var hash = XxHash3.HashToUInt64(nameBytes);
        while (true)
        {
            var view = Enter();
            try
            {
                T result = default!;
                MemStoreException? corrupt = null;
                try
                {
                    var live = Index.Find(view, nameBytes, hash, out var offset, out _) >= 0 && !Heap.IsExpired(view, offset);
                    result = read(view, live ? offset : -1, ref state);
                }
                catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.Corrupt)
                {
                    corrupt = e;
                }

                if (!view.StillValid())
                {
                    continue;
                }

                return corrupt is null ? result : throw corrupt;
            }
            finally
            {
                view.Exit();
            }
        }
    }

    /// <summary>Metadata of every live stack, sorted ordinally by name.</summary>
    public IReadOnlyList<StackInfo> List()
    {
        var found = Collect(withInfo: true);
        var result = new StackInfo[found.Count];
        for (var i = 0; i < found.Count; i++)
        {
            result[i] = found[i].Info!;
        }

        return result;
    }

    /// <summary>Names of every live stack, sorted ordinally.</summary>
    public IReadOnlyList<string> ListNames()
    {
        var found = Collect(withInfo: false);
        var result = new string[found.Count];
        for (var i = 0; i < found.Count; i++)
        {
            result[i] = found[i].Name;
        }

        return result;
    }

    /// <summary>Lock-free walks a listing tries before it walks under the writer lock: a steady stream of writes could
    /// otherwise keep it retrying forever.</summary>
    private const int LockFreeListAttempts = 8;

    /// <summary>
    /// Walks the index (lock-free: each slot is one consistent load) and sorts by UTF-8 name bytes. The result is the
    /// index as it was at one moment: a walk is kept only when no change of the index completed while it ran (the
    /// arena's <see cref="MutationStamp"/> is the same before and after, and the arena was not recycled), since a walk
    /// that read some slots before a change and others after a later one would list stacks as they never were
    /// together. After <see cref="LockFreeListAttempts"/> disturbed walks it walks once under the writer lock.
    /// </summary>
    private List<(byte[] Key, string Name, StackInfo? Info)> Collect(bool withInfo)
    {
        for (var attempt = 0; attempt < LockFreeListAttempts; attempt++)
        {
            var found = new List<(byte[] Key, string Name, StackInfo? Info)>();
            MemStoreException? corrupt = null;
            var view = Enter();
            try
            {
                var stamp = MutationStamp(view);
                try
                {
                    CollectFrom(view, withInfo, found);
                }
                catch (MemStoreException e) when (e.Kind == MemStoreErrorKind.Corrupt)
                {
                    corrupt = e;
                }

                if (!view.StillValid() || (corrupt is null && MutationStamp(view) != stamp))
                {
                    continue;
                }
            }
            finally
            {
                view.Exit();
            }

            return corrupt is null ? Sorted(found) : throw corrupt;
        }

        return CollectLocked(withInfo);
    }

    /// <summary>
    /// Moves with every change of the index, and never comes back to an earlier value within one arena generation: a
    /// write increments the sequence before it publishes its slot, a removal increments the tombstones after it
    /// tombstones the slot (only a write, which also moves the sequence, decrements them), and one change completes,
    /// counters included, before the next takes the lock. So a walk whose slot loads (acquire) lie between two equal
    /// stamps saw no change after missing an earlier one: what it read is the index at one moment.
    /// </summary>
    private static (long Sequence, long Tombstones) MutationStamp(ArenaView view) =>
        (Volatile.Read(ref view.Sequence), Volatile.Read(ref view.Tombstones));

    /// <summary>The walk with writers excluded, as Verify does it (a dead writer is recovered from first).</summary>
    private List<(byte[] Key, string Name, StackInfo? Info)> CollectLocked(bool withInfo)
    {
        lock (processLock)
        {
            var view = BeginWrite(out _);
            try
            {
                var found = new List<(byte[] Key, string Name, StackInfo? Info)>();
                CollectFrom(view, withInfo, found);
                EndWrite(view);
                return Sorted(found);
            }
            catch
            {
                AbortWrite(view);
                throw;
            }
        }
    }

    private static List<(byte[] Key, string Name, StackInfo? Info)> Sorted(List<(byte[] Key, string Name, StackInfo? Info)> found)
    {
        found.Sort(static (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        return found;
    }

    private void CollectFrom(ArenaView view, bool withInfo, List<(byte[] Key, string Name, StackInfo? Info)> found)
    {
        var now = StoreClock.NowMs();
        for (long i = 0; i < view.SlotCount; i++)
        {
            var word = Volatile.Read(ref view.Slots[i]);
            if (!Index.HoldsRecord(word))
            {
                continue;
            }

            var offset = Index.OffsetOf(word);
            var key = Heap.ReadNameBytes(view, offset); // checks the record first
            if (Heap.IsExpired(view, offset, now))
            {
                continue;
            }

            var name = Encoding.UTF8.GetString(key);
            found.Add((key, name, withInfo ? Heap.ReadInfo(view, offset, name, Name) : null));
        }
    }

    // ---------------------------------------------------------------- writes

    /// <summary>Writes unconditionally (raw encoding, no expiry); returns the new version.</summary>
    public long Set(string name, ReadOnlySpan<byte> value)
    {
        TrySet(name, value, default, out var version);
        return version;
    }

    /// <summary>Writes with options. Returns false (and writes nothing) when <see cref="WriteOptions.ExpectedVersion"/>
    /// does not match; otherwise true with the new version. The write commits whole or not at all.</summary>
    public bool TrySet(string name, ReadOnlySpan<byte> value, in WriteOptions options, out long version)
    {
        Span<byte> nameBytes = stackalloc byte[Layout.MaxNameBytes];
        nameBytes = nameBytes[..EncodeName(name, nameBytes)];
        var hash = XxHash3.HashToUInt64(nameBytes);
        if (options.Encoding is not (ValueEncoding.Raw or ValueEncoding.CliXml))
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"Unknown value encoding {(int)options.Encoding}.");
        }

        if (options.ExpectedVersion is < 0)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"An expected version cannot be negative ({options.ExpectedVersion}).");
        }

        Span<byte> typeBuffer = stackalloc byte[512]; // not zeroed: SkipLocalsInit
        scoped Span<byte> typeName = default;
        if (options.TypeName is { Length: > 0 } type)
        {
            var length = Encoding.UTF8.GetByteCount(type);
            if (length > Layout.MaxTypeNameBytes)
            {
                throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"A type name of {length} UTF-8 bytes is longer than the limit of {Layout.MaxTypeNameBytes}.");
            }

            typeName = length <= typeBuffer.Length ? typeBuffer[..length] : new byte[length];
            Encoding.UTF8.GetBytes(type, typeName);
        }

        var expiry = Expiry.From(options);
        lock (processLock)
        {
            var view = BeginWrite(out var now);
            try
            {
                var written = WriteLocked(ref view, nameBytes, hash, typeName, value, options.Encoding, options.ExpectedVersion, now, expiry, out version);
                EndWrite(view);
                return written;
            }
            catch (MemStoreException e) when (e.Kind is MemStoreErrorKind.CapacityExceeded or MemStoreErrorKind.InvalidArgument)
            {
                EndWrite(view); // thrown before anything was changed
                throw;
            }
            catch
            {
                AbortWrite(view);
                throw;
            }
        }
    }

    // ---------------------------------------------------------------- update turns

    /// <summary>True when another updater holds the update turn of this stack or waits for it (docs/store-design.md,
    /// "Update turns"): an updater then queues for the turn instead of racing. One or two loads, no system call.</summary>
    public bool IsUpdateTurnBusy(string name)
    {
        var view = Enter();
        try
        {
            return UpdateTurns.IsBusy(anchor, UpdateTurns.TurnIndex(HashName(name)));
        }
        finally
        {
            view.Exit();
        }
    }

    /// <summary>Waits for the update turn of this stack, first come first served, however many processes wait; null when
    /// <paramref name="timeout"/> (or <see cref="Timeout.InfiniteTimeSpan"/>) passed first. Disposing the result gives
    /// the turn back; a holder that dies gives it back by dying. Readers and plain writers never wait for a turn.</summary>
    public UpdateTurn? TakeUpdateTurn(string name, TimeSpan timeout, CancellationToken cancellation = default)
    {
        var index = UpdateTurns.TurnIndex(HashName(name));
        var view = Enter();
        try
        {
            anchor.AddReference(); // handed to the turn: the anchor page stays mapped while it is waited for and held
        }
        finally
        {
            view.Exit();
        }

        return UpdateTurns.Take(anchor, index, timeout, cancellation);
    }

    private static ulong HashName(string name)
    {
        Span<byte> nameBytes = stackalloc byte[Layout.MaxNameBytes];
        return XxHash3.HashToUInt64(nameBytes[..EncodeName(name, nameBytes)]);
    }

    /// <summary>Removes a stack; false when it did not exist (or the version did not match, when one is given).</summary>
    public bool Remove(string name, long? expectedVersion = null)
    {
        Span<byte> nameBytes = stackalloc byte[Layout.MaxNameBytes];
        nameBytes = nameBytes[..EncodeName(name, nameBytes)];
        var hash = XxHash3.HashToUInt64(nameBytes);
        lock (processLock)
        {
            var view = BeginWrite(out _);
            try
            {
                var removed = RemoveLocked(view, nameBytes, hash, expectedVersion);
                TryShrink(ref view);
                EndWrite(view);
                return removed;
            }
            catch
            {
                AbortWrite(view);
                throw;
            }
        }
    }

    /// <summary>Step 1 of every write: the lock word, recovery of a dead predecessor, writer state = Writing.
    /// Returns a referenced view of the current arena. Caller holds the process lock.
    /// On failure every reference taken here is dropped exactly once, and the lock word is released while a view
    /// reference still keeps the anchor mapped (the view is what a disposed instance's anchor lives on).
    /// <paramref name="verifying"/>: for Verify, which asks the kernel about removal at once, and recovers from a dead
    /// writer but leaves counters that no crash can produce as they are, for it to report.
    /// <paramref name="now"/> is the clock read once the lock is held: what a write decides from it (is the old record
    /// expired, when does the new one expire, its modified time) still holds when it commits, however long it waited.</summary>
    private ArenaView BeginWrite(out long now, bool verifying = false)
    {
        var view = Enter();
        try
        {
            WriterLock.Acquire(anchor.Address);
        }
        catch
        {
            view.Exit();
            throw;
        }

        try
        {
            now = StoreClock.NowMs();
            CheckNotRemoved(view, force: verifying, now);
            var state = anchor.State;
            if (state == WriterState.Growing)
            {
                Compaction.RecoverGrowth(anchor, uid);
            }

            // Another process may have grown the store since we entered: work on the arena the anchor names now.
            // The new view is entered before the old one is left: if entering throws (the store was destroyed or this
            // instance disposed while we waited), the catch below leaves the old view once, after releasing the lock.
            if (view.Anchor.ArenaRef != view.ArenaRef)
            {
                var next = Enter();
                view.Exit();
                view = next;
            }

            if (state != WriterState.Idle || (!verifying && !Compaction.CountersPlausible(view)))
            {
                Compaction.Recount(view);
            }

            anchor.State = WriterState.Writing;
            return view;
        }
        catch
        {
            WriterLock.Release(anchor.Address);
            view.Exit();
            throw;
        }
    }

    private void EndWrite(ArenaView view)
    {
        anchor.State = WriterState.Idle;
        WriterLock.Release(anchor.Address);
        view.Exit();
    }

    /// <summary>An unexpected failure mid-write: leave the writer state set so that the next writer recounts.</summary>
    private void AbortWrite(ArenaView view)
    {
        WriterLock.Release(anchor.Address);
        view.Exit();
    }

    /// <summary>Steps 2-6 of the write protocol (docs/store-design.md). The record is complete before the slot names it.</summary>
    private bool WriteLocked(ref ArenaView view, ReadOnlySpan<byte> name, ulong hash, ReadOnlySpan<byte> typeName, ReadOnlySpan<byte> value,
        ValueEncoding encoding, long? expectedVersion, long now, Expiry expiry, out long version)
    {
        var slot = Index.Find(view, name, hash, out var oldOffset, out var insertAt);
        var live = slot >= 0 && !Heap.IsExpired(view, oldOffset, now);
        if (expectedVersion is { } expected
            && (expected == WriteOptions.MustNotExist ? live : !live || Heap.Version(view, oldOffset) != expected))
        {
            version = 0;
            return false; // a lost race comes first: a stack that expired meanwhile is missing, not an invalid expiry
        }

        var expires = expiry.At(now); // may throw InvalidArgument: nothing has been changed yet

        // The sequence comes from shared memory: the next version must not overflow, and never goes back. Checked
        // before anything changes (growth carries the sequence over unchanged).
        if (!Layout.IsValidSequence(view.Sequence) || (slot >= 0 && view.Sequence < Heap.Version(view, oldOffset)))
        {
            throw new MemStoreException(MemStoreErrorKind.Corrupt,
                $"The store is corrupt: its write sequence {view.Sequence} cannot give the next version (arena generation {view.Generation}). Nothing was written; run Verify, or remove the store.");
        }

        var created = live ? Heap.Created(view, oldOffset) : now;
        var size = Layout.RecordSize(name.Length, typeName.Length, value.Length);
        var needsFreshSlot = slot < 0 && (insertAt < 0 || view.Slots[insertAt] == Layout.EmptySlot);
        var indexFull = slot < 0 && (insertAt < 0
            || (needsFreshSlot && (view.Entries + view.Tombstones + 1) * 100 > view.SlotCount * Layout.MaxLoadPercent));
        if (view.Bump + size > view.Capacity || indexFull)
        {
            Compact(ref view, size, value.Length);
            slot = Index.Find(view, name, hash, out oldOffset, out insertAt);
        }

        var offset = view.Bump;
        if (!Compaction.BumpInHeap(view, offset))
        {
            // The bump pointer comes from shared memory: never write where a damaged one points.
            Compaction.Recount(view);
            offset = view.Bump;
            if (!Compaction.BumpInHeap(view, offset) || offset + size > view.Capacity)
            {
                throw Heap.Corrupt(view, offset, "the heap's bump pointer is outside the heap");
            }
        }

        version = view.Sequence + 1;
        view.Sequence = version;
        CrashPoints.Hit?.Invoke("write.after-sequence");
        Heap.Write(view, offset, name, hash, typeName, value, encoding, version, created, now, expires);
        CrashPoints.Hit?.Invoke("write.after-record");
        Volatile.Write(ref view.Bump, offset + size);
        CrashPoints.Hit?.Invoke("write.after-bump");
        var target = slot >= 0 ? slot : insertAt;
        var reusesTombstone = slot < 0 && view.Slots[target] == Layout.TombstoneSlot;
        Volatile.Write(ref view.Slots[target], Index.SlotWord(hash, offset)); // commit point
        CrashPoints.Hit?.Invoke("write.after-publish");
        if (slot >= 0)
        {
            var oldSize = Heap.Size(view, oldOffset);
            view.LiveBytes -= oldSize;
            view.GarbageBytes += oldSize;
        }
        else
        {
            view.Entries++;
            if (reusesTombstone)
            {
                view.Tombstones--;
            }
        }

        view.LiveBytes += size;
        CrashPoints.Hit?.Invoke("write.after-counters");
        if (slot >= 0)
        {
            TryShrink(ref view); // an overwrite by a smaller value may leave a large arena mostly empty
        }

        return true;
    }

    /// <summary>Builds the next arena (growing, compacting or shrinking it: <see cref="Compaction.Grow"/>) and makes
    /// <paramref name="view"/> an operation reference on it. Caller holds the writer lock.</summary>
    private void Compact(ref ArenaView view, long recordSize, long valueLength)
    {
        var grown = Compaction.Grow(anchor, uid, view, recordSize, valueLength, Volatile.Read(ref retired));
        view.Exit();
        AdoptGrown(grown);
        // Trade the creation reference Grow handed us for an operation reference, like every other operation holds.
        grown.TryEnter();
        grown.Release();
        view = grown;
    }

    /// <summary>After a committed removal or overwrite: compacts into a smaller arena when the live data would use under
    /// about a quarter of this one, so that the memory goes back to the system (docs/store-design.md, "Shrinking").
    /// Opportunistic: a failure (the kernel refusing a segment) leaves the store as it is, and the write stands.</summary>
    private void TryShrink(ref ArenaView view)
    {
        if (!Compaction.ShouldShrink(anchor, view))
        {
            return;
        }

        try
        {
            Compact(ref view, 0, 0);
        }
        catch (MemStoreException)
        {
            // Nothing was published (the reference flips last): clean up whatever the attempt left, as recovery would,
            // and carry on. A committed write or removal is never reported as failed because a shrink could not be made.
            Compaction.RecoverGrowth(anchor, uid);
            anchor.State = WriterState.Writing;
        }
    }

    /// <summary>Makes a view this process just built by growing current (the store keeps its own reference).</summary>
    private void AdoptGrown(ArenaView grown)
    {
        lock (viewLock)
        {
            var old = Volatile.Read(ref current);
            if (old is null || old.ArenaRef == grown.ArenaRef || !grown.TryAddReference())
            {
                return;
            }

            Replace(old, grown);
        }
    }

    /// <summary>Makes <paramref name="next"/> current (its reference becomes the store's) and keeps the old view's mapping
    /// as <see cref="retired"/>. Caller holds <see cref="viewLock"/>.</summary>
    private void Replace(ArenaView old, ArenaView next)
    {
        Volatile.Write(ref current, next);
        var previous = Volatile.Read(ref retired);
        // Only an arena of the same size can come back as a recycled spare; others were removed, and holding their
        // attachment would keep their memory alive.
        if (old.Mapping != next.Mapping && old.Capacity == next.Capacity && Arena.KeepsSpare(old.Capacity) && old.Mapping.TryAddReference())
        {
            Volatile.Write(ref retired, old.Mapping);
        }
        else
        {
            Volatile.Write(ref retired, null);
        }

        previous?.Release();
        old.Release();
    }

    private static bool RemoveLocked(ArenaView view, ReadOnlySpan<byte> name, ulong hash, long? expectedVersion)
    {
        var slot = Index.Find(view, name, hash, out var offset, out _);
        if (slot < 0)
        {
            return false;
        }

        // An expired stack counts as missing, but its slot is reclaimed now that we are here anyway.
        var live = !Heap.IsExpired(view, offset);
        if (live && expectedVersion is { } expected && Heap.Version(view, offset) != expected)
        {
            return false;
        }

        var size = Heap.Size(view, offset);
        Volatile.Write(ref view.Slots[slot], Layout.TombstoneSlot);
        CrashPoints.Hit?.Invoke("remove.after-tombstone");
        view.Entries--;
        view.Tombstones++;
        view.LiveBytes -= size;
        view.GarbageBytes += size;
        CrashPoints.Hit?.Invoke("remove.after-counters");
        return live;
    }

    // ---------------------------------------------------------------- store-wide

    public StoreStatistics GetStatistics()
    {
        var view = Enter();
        try
        {
            CheckNotRemoved(view, force: true, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            var (live, expired) = CountEntries(ref view);
            Libc.TryStat(anchor.ShmId, out var status, out _);
            var used = view.HeapOffset + Volatile.Read(ref view.LiveBytes);
            // Every segment the store holds, the spare too: an operator removing them by hand must not miss one.
            // A plain array, so that PowerShell can index it.
            var spare = anchor.SpareRef;
            int[] segments = spare == 0 ? [anchor.ShmId, view.ShmId] : [anchor.ShmId, view.ShmId, Anchor.ShmIdOf(spare)];
            return new StoreStatistics
            {
                Name = Name,
                Key = anchor.Key,
                SegmentIds = segments,
                Capacity = view.Capacity,
                MaxCapacity = anchor.MaxCapacity,
                BytesUsed = used,
                BytesFree = view.Capacity - used,
                Entries = live,
                ExpiredEntries = expired,
                Generation = view.Generation,
                Permissions = PermissionString(status.Mode),
                OwnerUid = (int)status.Uid,
                Owner = status.Uid == uid ? Environment.UserName : status.Uid.ToString(CultureInfo.InvariantCulture),
                Warnings = StoreEnvironment.Warnings(uid),
            };
        }
        finally
        {
            view.Exit();
        }
    }

    /// <summary>Live and expired (not yet reclaimed) records, by a lock-free walk of the index: the arena's entries
    /// counter includes expired records until compaction drops them. Walked again when the arena is recycled meanwhile;
    /// <paramref name="view"/> is then the view the counts come from.</summary>
    private (long Live, long Expired) CountEntries(ref ArenaView view)
    {
        while (true)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            long live = 0;
            long expired = 0;
            for (long i = 0; i < view.SlotCount; i++)
            {
                var word = Volatile.Read(ref view.Slots[i]);
                if (Index.HoldsRecord(word) && Heap.CheckRecord(view, Index.OffsetOf(word)) > 0)
                {
                    if (Heap.IsExpired(view, Index.OffsetOf(word), now))
                    {
                        expired++;
                    }
                    else
                    {
                        live++;
                    }
                }
            }

            if (view.StillValid())
            {
                return (live, expired);
            }

            view.Exit();
            view = Enter();
        }
    }

    private static string PermissionString(int mode)
    {
        Span<char> text = stackalloc char[9];
        const string Letters = "rwx";
        for (var i = 0; i < 9; i++)
        {
            text[i] = (mode & (1 << (8 - i))) != 0 ? Letters[i % 3] : '-';
        }

        return new string(text);
    }

    /// <summary>Walks header, index, heap and every record's checksum; never throws for corruption, reports it.</summary>
    public VerifyReport Verify()
    {
        lock (processLock)
        {
            ArenaView view;
            try
            {
                // As a writer: recovery first (a dead writer's stale counters are not corruption), and a stable snapshot.
                view = BeginWrite(out _, verifying: true);
            }
            catch (MemStoreException e) when (e.Kind is MemStoreErrorKind.Corrupt or MemStoreErrorKind.ForeignSegment)
            {
                return new VerifyReport { Store = Name, Problems = [e.Message] };
            }

            try
            {
                var report = Verifier.Run(Name, anchor, uid, view);
                EndWrite(view);
                return report;
            }
            catch
            {
                AbortWrite(view);
                throw;
            }
        }
    }

    /// <summary>Removes this store's segments (as <see cref="DestroyStore"/>) and disposes this instance.</summary>
    public void Destroy()
    {
        var view = Enter();
        try
        {
            DestroyAnchor(anchor, uid);
        }
        finally
        {
            view.Exit();
            Dispose();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        lock (viewLock)
        {
            var view = Volatile.Read(ref current);
            Volatile.Write(ref current, null);
            view?.Release();
            Volatile.Read(ref retired)?.Release();
            Volatile.Write(ref retired, null);
        }

        // Last: a call still inside keeps its view, and through it the anchor, until it leaves.
        anchor.Release();
    }

    // ---------------------------------------------------------------- test hooks

    internal int AnchorKey => anchor.Key;

    /// <summary>The anchor key a store of the current user would use at <paramref name="probe"/> (0..15): lets hostile-segment
    /// tests plant a foreign segment where the store will look.</summary>
    internal static int AnchorKeyFor(string storeName, int probe) => KeyDerivation.AnchorKey(Libc.GetUid(), storeName, probe);

    internal int AnchorShmId => anchor.ShmId;

    /// <summary>The update turn a stack name uses, as its words read now (tests watch the queue through it).</summary>
    internal (ulong Owner, int NextTicket, int Serving) UpdateTurnState(string name) =>
        UpdateTurns.State(anchor, UpdateTurns.TurnIndex(HashName(name)));

    /// <summary>shmid of the spare arena kept for recycling, or -1 (tests counting a store's segments need it).</summary>
    internal int SpareShmId
    {
        get
        {
            var view = Enter();
            try
            {
                var spare = anchor.SpareRef;
                return spare == 0 ? -1 : Anchor.ShmIdOf(spare);
            }
            finally
            {
                view.Exit();
            }
        }
    }

    /// <summary>Runs <paramref name="action"/> with the current arena's address and capacity (tests corrupt bytes through it).</summary>
    internal void WithArena(Action<IntPtr, long> action)
    {
        var view = Enter();
        try
        {
            action((IntPtr)view.Address, view.Capacity);
        }
        finally
        {
            view.Exit();
        }
    }

    /// <summary>Runs <paramref name="action"/> with the anchor's address (tests corrupt or inspect it).</summary>
    internal void WithAnchor(Action<IntPtr> action)
    {
        var view = Enter();
        try
        {
            action((IntPtr)anchor.Address);
        }
        finally
        {
            view.Exit();
        }
    }
}
