using System;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Text;
using System.Threading;

namespace Memalloc.Core;

/// <summary>Named locks: a record per held lock, written through the normal write path; a holder that dies loses the
/// lock to the next waiter, found dead as the writer lock finds its dead owners (docs/coordination-design.md, "Named
/// locks").</summary>
public sealed unsafe partial class MemStore
{
    /// <summary>How long a lock waiter sleeps at most before it asks whether the holder still lives: a dead holder never
    /// releases, so this bounds how late its death is noticed (a release wakes the waiter at once).</summary>
    private static readonly TimeSpan s_lockWaitSlice = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Takes the exclusive lock <paramref name="name"/> for <paramref name="holder"/> (non-zero; one per runspace, say),
    /// waiting at most <paramref name="timeout"/> (<see cref="TimeSpan.Zero"/>: try once; <see cref="Timeout.InfiniteTimeSpan"/>:
    /// no limit); null when it passed. Re-entrant: a holder asking again gets a <see cref="HeldLock.Reentered"/> handle at
    /// once. Another holder, in this process or another, waits. <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellation"/> fires.
    /// </summary>
    public HeldLock? AcquireLock(string name, ulong holder, TimeSpan timeout, CancellationToken cancellation = default)
    {
        if (holder == 0)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, "A lock holder id cannot be 0.");
        }

        CheckTimeout(timeout);
        var recordName = LockRecordName(name);
        var hash = XxHash3.HashToUInt64(recordName);
        var held = TryTakeLock(name, recordName, hash, holder, out _);
        if (held is not null || timeout == TimeSpan.Zero)
        {
            return held;
        }

        var slot = -1;
        var claimed = false;
        var lastLivenessCheck = Environment.TickCount64;
        var bucket = (IntPtr)WaitBuckets.Bucket(_anchor.Address, WaitBuckets.IndexOf(hash));
        var peekedAt = 0L;
        var peekedSequence = 0;
        var owner = 0UL;
        using var watch = new OwnerWatch();
        try
        {
            WaitOnBucket(hash, s_lockWaitSlice, timeout, cancellation, (out TimeSpan recheckWithin) =>
            {
                recheckWithin = Timeout.InfiniteTimeSpan;
                if (!claimed)
                {
                    claimed = true;
                    slot = LockWaiterSlots.Claim(_anchor.Address, hash); // only for Get-MemLock's count
                }

                // A lock-free look at the record when the bucket moved (a release wakes it), and at least once a
                // lease's margin (a writer skips the wake of a lapsed lease); a live holder's liveness is asked at most
                // once per slice. A slice that ends with nothing changed thus costs one liveness check.
                var now = Environment.TickCount64;
                var seen = Volatile.Read(ref WaitBuckets.Sequence((byte*)bucket));
                if (peekedAt == 0 || seen != peekedSequence || now - peekedAt >= WaitBuckets.LeaseMarginMilliseconds)
                {
                    (peekedAt, peekedSequence) = (now, seen);
                    owner = PeekLockOwner(recordName, hash);
                }

                if (owner != 0 && now - lastLivenessCheck < (long)s_lockWaitSlice.TotalMilliseconds)
                {
                    return false;
                }

                if (owner != 0)
                {
                    lastLivenessCheck = now;
                    if (!watch.IsDead(owner))
                    {
                        return false;
                    }
                }

                held = TryTakeLock(name, recordName, hash, holder, out _);
                return held is not null;
            });
        }
        finally
        {
            LockWaiterSlots.Release(_anchor.Address, slot);
        }

        return held;
    }

    /// <summary>The locks held by live processes, sorted by name, with their waiters. Lock-free.</summary>
    public IReadOnlyList<LockInfo> ListLocks()
    {
        while (true)
        {
            var view = Enter();
            try
            {
                var found = new List<(byte[] Key, LockInfo Info)>();
                var waiters = LockWaiterSlots.CountLive(_anchor.Address);
                var alive = new Dictionary<ulong, bool>();
                for (long i = 0; i < view.SlotCount; i++)
                {
                    var word = Volatile.Read(ref view.Slots[i]);
                    if (!Index.HoldsRecord(word) || Heap.CheckRecord(view, Index.OffsetOf(word)) < 0)
                    {
                        continue;
                    }

                    var offset = Index.OffsetOf(word);
                    if (Heap.Kind(view, offset) != RecordKind.Lock || LockRecord.TryRead(Heap.ReadValue(view, offset)) is not { } record)
                    {
                        continue;
                    }

                    if (!alive.TryGetValue(record.Owner, out var lives))
                    {
                        lives = record.Owner == WriterLock.OwnWord || !WriterLock.IsOwnerDead(record.Owner);
                        alive[record.Owner] = lives;
                    }

                    if (lives)
                    {
                        var hash = XxHash3.HashToUInt64(Heap.ReadNameBytes(view, offset));
                        found.Add((Encoding.UTF8.GetBytes(record.Name), new LockInfo
                        {
                            Name = record.Name,
                            Store = Name,
                            OwnerPid = WriterLock.OwnerPid(record.Owner),
                            Since = Heap.FromUnixMs(*(long*)(view.Address + offset + Layout.RecordModifiedOffset)),
                            Token = Heap.Version(view, offset),
                            Waiters = waiters.GetValueOrDefault(hash),
                        }));
                    }
                }

                if (!view.StillValid())
                {
                    continue;
                }

                found.Sort(static (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
                return found.ConvertAll(static f => f.Info);
            }
            finally
            {
                view.Exit();
            }
        }
    }

    /// <summary>Gives a lock back, if this holder still holds that acquisition (else it was taken over, which needs this
    /// process dead, or the store was removed: nothing to do).</summary>
    internal void ReleaseLock(HeldLock held)
    {
        var recordName = LockRecordName(held.Name);
        var hash = XxHash3.HashToUInt64(recordName);
        lock (_processLock)
        {
            var view = BeginWrite(out _);
            try
            {
                if (Index.Find(view, recordName, hash, out var offset, out _) >= 0 && Heap.Version(view, offset) == held.Token
                    && LockRecord.TryRead(Heap.ReadValue(view, offset)) is { } record
                    && record.Owner == WriterLock.OwnWord && record.Holder == held.Holder)
                {
                    RemoveLocked(view, recordName, hash, held.Token);
                    CrashPoints.Hit?.Invoke("unlock.after-tombstone");
                }

                EndWrite(view);
            }
            catch
            {
                AbortWrite(view);
                throw;
            }
        }
    }

    /// <summary>One attempt under the writer lock: free, or held by a dead process (taken over), or already this
    /// holder's (re-entered). Null when a live holder has it; <paramref name="owner"/> is then its owner word.</summary>
    private HeldLock? TryTakeLock(string name, byte[] recordName, ulong hash, ulong holder, out ulong owner)
    {
        owner = 0;
        lock (_processLock)
        {
            var view = BeginWrite(out var now);
            try
            {
                if (Index.Find(view, recordName, hash, out var offset, out _) >= 0)
                {
                    var record = LockRecord.TryRead(Heap.ReadValue(view, offset)) ?? throw Heap.Corrupt(view, offset, "a lock record does not hold a valid lock");
                    if (record.Owner == WriterLock.OwnWord && record.Holder == holder)
                    {
                        var reentered = new HeldLock(Name, name, holder, Heap.Version(view, offset),
                            Heap.FromUnixMs(*(long*)(view.Address + offset + Layout.RecordModifiedOffset)), reentered: true, ReleaseLock);
                        EndWrite(view);
                        return reentered;
                    }

                    if (record.Owner == WriterLock.OwnWord || !WriterLock.IsOwnerDead(record.Owner))
                    {
                        owner = record.Owner;
                        EndWrite(view);
                        return null;
                    }
                }

                RaiseLayoutVersion(view);
                var nameBytes = Encoding.UTF8.GetBytes(name);
                var value = new byte[LockRecord.SizeFor(nameBytes.Length)];
                new LockRecord(WriterLock.OwnWord, holder, name).Write(nameBytes, value);
                WriteLocked(ref view, recordName, hash, default, value, RecordKind.Lock, null, now, default, restored: null, out var token); // commit point
                CrashPoints.Hit?.Invoke("lock.after-publish");
                EndWrite(view);
                return new HeldLock(Name, name, holder, token, Heap.FromUnixMs(now), reentered: false, ReleaseLock);
            }
            catch (MemStoreException e) when (IsRefusal(e))
            {
                EndWrite(view);
                throw;
            }
            catch
            {
                AbortWrite(view);
                throw;
            }
        }
    }

    /// <summary>The owner word of the lock's record, 0 when it is free. Lock-free.</summary>
    private ulong PeekLockOwner(byte[] recordName, ulong hash)
    {
        var none = 0;
        return ReadRecord(recordName, hash, ref none, static (ArenaView view, long offset, ref int _) =>
            offset < 0 ? 0UL : LockRecord.TryRead(Heap.ReadValue(view, offset))?.Owner ?? 0UL);
    }

    /// <summary>The record name of a lock (validated as a stack name is: 1 to 255 UTF-8 bytes, no control characters).</summary>
    private static byte[] LockRecordName(string name)
    {
        Span<byte> nameBytes = stackalloc byte[Layout.MaxNameBytes];
        nameBytes = nameBytes[..StackName.Encode(name, nameBytes)];
        var recordName = new byte[CoordinationRecords.LockNameLength];
        CoordinationRecords.LockName(nameBytes, recordName);
        return recordName;
    }
}
