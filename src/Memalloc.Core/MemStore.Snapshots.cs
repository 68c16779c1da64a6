using System;
using System.IO.Hashing;
using System.Threading;
using Memalloc.Core.Snapshots;

namespace Memalloc.Core;

/// <summary>Snapshots (docs/snapshot-format.md): a consistent copy of the live records, taken under the writer lock,
/// and the write that restores one record of a snapshot.</summary>
public sealed partial class MemStore
{
    /// <summary>
    /// A consistent snapshot of the live stacks and queues (docs/snapshot-format.md, "Export"): their records (a queue's
    /// head and items) are copied into private memory under the writer lock, at one instant, so that writers wait only
    /// for the copy and readers not at all. Held locks are never in it. <paramref name="include"/> (called under the lock:
    /// keep it to a name match) chooses stacks and queues by name.
    /// </summary>
    public StoreSnapshot TakeSnapshot(Func<string, bool>? include = null)
    {
        // Memory for the copy is made ready before the lock (faulting pages in costs several times the copy): as much as
        // the live records take now, when all of them are wanted; a filter may want few, and then memory comes as needed.
        var estimate = 0L;
        if (include is null)
        {
            var current = Enter();
            try
            {
                estimate = Math.Clamp(Volatile.Read(ref current.LiveBytes), 0, current.Capacity);
            }
            finally
            {
                current.Exit();
            }
        }

        var snapshot = StoreSnapshot.Reserve(Name, estimate);
        try
        {
            lock (_processLock)
            {
                var view = BeginWrite(out var now);
                try
                {
                    snapshot.CopyLive(view, now, include);
                    CrashPoints.Hit?.Invoke("snapshot.after-copy");
                }
                finally
                {
                    EndWrite(view); // the copy changed nothing, whatever ended it
                }
            }

            return snapshot;
        }
        catch
        {
            snapshot.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes one stack of a snapshot through the normal write: a new version, the snapshot's type name, encoding,
    /// value, created and modified times, and its absolute expiry. Not written when the expiry has passed by the time
    /// the write holds the lock, nor, with <paramref name="noClobber"/>, when the name exists (as a stack or a queue).
    /// Otherwise it replaces what the name holds, a queue included: the snapshot says what the name is.
    /// </summary>
    public RestoreOutcome Restore(in SnapshotStack stack, bool noClobber, out long version)
    {
        Span<byte> nameBytes = stackalloc byte[Layout.MaxNameBytes];
        nameBytes = nameBytes[..StackName.Encode(stack.NameText, nameBytes)];
        stack.EnsureWritable();

        var written = Commit(nameBytes, XxHash3.HashToUInt64(nameBytes), stack.TypeName, stack.Value, stack.Encoding,
            noClobber ? WriteOptions.MustNotExist : null, Expiry.AtUnixMs(stack.ExpiresMs), new RestoredTimes(stack.CreatedMs, stack.ModifiedMs),
            out version, out var expired);
        return written ? RestoreOutcome.Written : expired ? RestoreOutcome.Expired : RestoreOutcome.Exists;
    }

    /// <summary>
    /// Begins restoring a queue of a snapshot (docs/snapshot-format.md, "Import"): one write of its head, empty, with the
    /// snapshot's created and modified times, replacing whatever the name holds (a queue's old items become unreachable);
    /// with <paramref name="noClobber"/>, nothing is written when the name exists. Its items follow, oldest first, through
    /// <see cref="RestoreQueueItem"/>, each a send of its own: memory stays one item, and the writer lock is never held
    /// while the caller reads its file.
    /// </summary>
    public RestoreOutcome RestoreQueue(in SnapshotQueue queue, bool noClobber, out long version)
    {
        Span<byte> name = stackalloc byte[Layout.MaxNameBytes];
        name = name[..StackName.Encode(queue.NameText, name)];
        var times = RestoredTimesOf(queue);
        var hash = XxHash3.HashToUInt64(name);
        lock (_processLock)
        {
            var view = BeginWrite(out var now);
            try
            {
                if (noClobber && Index.Find(view, name, hash, out var offset, out _) >= 0 && !Heap.IsExpired(view, offset, now))
                {
                    version = 0;
                    EndWrite(view);
                    return RestoreOutcome.Exists;
                }

                RaiseLayoutVersion(view);
                version = WriteHead(ref view, name, hash, new QueueHead(view.Sequence + 1, view.Sequence + 1, 0), now, times);
                EndWrite(view);
                return RestoreOutcome.Written;
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

    /// <summary>Sends the next item of a queue <see cref="RestoreQueue"/> began, keeping the snapshot's times on its head;
    /// returns the head's new version. A full store fails before the item is visible, as a send does.</summary>
    public long RestoreQueueItem(in SnapshotQueue queue, in SnapshotQueueItem item)
    {
        Span<byte> name = stackalloc byte[Layout.MaxNameBytes];
        name = name[..StackName.Encode(queue.NameText, name)];
        item.EnsureWritable(queue);

        var times = RestoredTimesOf(queue);
        var hash = XxHash3.HashToUInt64(name);
        Span<byte> queueHash = stackalloc byte[CoordinationRecords.NameHashLength];
        CoordinationRecords.QueueNameHash(name, queueHash);
        lock (_processLock)
        {
            var view = BeginWrite(out var now);
            try
            {
                SendLocked(ref view, name, hash, queueHash, item.TypeName, item.Value, now, times, out var version);
                EndWrite(view);
                return version;
            }
            catch (MemStoreException e) when (IsRefusal(e))
            {
                EndWrite(view); // nothing changed, or an item past the head's range that nobody can see
                throw;
            }
            catch
            {
                AbortWrite(view);
                throw;
            }
        }
    }

    private static RestoredTimes RestoredTimesOf(in SnapshotQueue queue)
    {
        queue.EnsureWritable();
        return new RestoredTimes(queue.CreatedMs, queue.ModifiedMs);
    }
}
