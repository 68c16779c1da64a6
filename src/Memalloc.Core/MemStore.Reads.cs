using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Text;
using System.Threading;

namespace Memalloc.Core;

/// <summary>Reads: lock-free, one protocol for every kind of read (docs/store-design.md, "Reads"), and listings that
/// show the index as it was at one moment.</summary>
public sealed unsafe partial class MemStore
{
    /// <summary>The value of a stack, or null when it does not exist or has expired. Lock-free.</summary>
    public byte[]? Get(string name)
    {
        var none = 0;
        return ReadRecord(name, ref none, static (ArenaView view, long offset, ref int _) => offset < 0 ? null : Heap.ReadValue(view, StackOnly(view, offset)));
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
                offset < 0 ? -1 : Heap.CopyValue(view, StackOnly(view, offset), new Span<byte>((void*)d.Pointer, d.Length)));
        }
    }

    /// <summary>Value and metadata in one consistent snapshot. Lock-free.</summary>
    public bool TryGet(string name, out StackEntry? entry)
    {
        var names = (name, Name);
        // One record, immutable while the arena's generation holds: value and metadata cannot disagree.
        entry = ReadRecord(name, ref names, static (ArenaView view, long offset, ref (string Stack, string Store) n) =>
            offset < 0 ? null : new StackEntry { Data = Heap.ReadValue(view, StackOnly(view, offset)), Info = Heap.ReadInfo(view, offset, n.Stack, n.Store) });
        return entry is not null;
    }

    /// <summary>
    /// Value and metadata in one consistent snapshot, the value in an array rented from
    /// <see cref="System.Buffers.ArrayPool{T}.Shared"/>: dispose the entry to give it back. The read path for callers that
    /// only look at the value (decode it, copy it on): no large-object allocation per read. Lock-free.
    /// </summary>
    public bool TryGetRented(string name, [NotNullWhen(true)] out RentedStackEntry? entry)
    {
        var names = (name, Name);
        entry = ReadRecord(name, ref names, static (ArenaView view, long offset, ref (string Stack, string Store) n) =>
        {
            if (offset < 0)
            {
                return null;
            }

            var length = Heap.ValueLength(view, StackOnly(view, offset));
            if (length > Array.MaxLength)
            {
                throw Heap.Corrupt(view, offset, "a value length larger than any array");
            }

            // A read that finds the arena recycled starts again and leaves this array to the garbage collector (rare).
            var buffer = ArrayPool<byte>.Shared.Rent((int)length);
            try
            {
                Heap.CopyValue(view, offset, buffer);
                return new RentedStackEntry(buffer, (int)length, Heap.ReadInfo(view, offset, n.Stack, n.Store));
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        });
        return entry is not null;
    }

    /// <summary>A value read refuses a queue's head (<see cref="MemStoreErrorKind.NameIsQueue"/>): its items are taken
    /// with <see cref="Receive(string, int)"/>.</summary>
    private static long StackOnly(ArenaView view, long offset) =>
        Heap.Kind(view, offset) == RecordKind.QueueHead ? throw QueueRefused(Heap.ReadNameBytes(view, offset)) : offset;

    /// <summary>Metadata only (no copy of the value); null when missing or expired. A queue's info has its item count and
    /// bytes (<see cref="StackInfo.Kind"/> Queue). Lock-free.</summary>
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
        nameBytes = nameBytes[..StackName.Encode(name, nameBytes)];
        return ReadRecord(nameBytes, XxHash3.HashToUInt64(nameBytes), ref state, read);
    }

    /// <summary>The read protocol for a record named by its bytes (a stack's, or a lock's or an item's).</summary>
    private T ReadRecord<TState, T>(ReadOnlySpan<byte> nameBytes, ulong hash, ref TState state, RecordReader<TState, T> read)
    {
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
                catch (MemStoreException e) when (e.Kind is MemStoreErrorKind.Corrupt or MemStoreErrorKind.NameIsQueue)
                {
                    corrupt = e; // counts only if the arena was not recycled under the read
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

    /// <summary>Metadata of every live stack and queue, sorted ordinally by name.</summary>
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

    /// <summary>Names of every live stack and queue, sorted ordinally.</summary>
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
        lock (_processLock)
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
            if (Heap.IsExpired(view, offset, now) || CoordinationRecords.IsSystemName(key))
            {
                continue;
            }

            var name = Encoding.UTF8.GetString(key);
            found.Add((key, name, withInfo ? Heap.ReadInfo(view, offset, name, Name) : null));
        }
    }
}
