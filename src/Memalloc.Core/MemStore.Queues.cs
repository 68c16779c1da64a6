using System;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Text;
using System.Threading;

namespace Memalloc.Core;

/// <summary>Queues: a head record and one record per item, sent and received under the writer lock with the publishes
/// ordered so that every prefix of a send or a receive is a consistent store (docs/coordination-design.md, "Queues").</summary>
public sealed unsafe partial class MemStore
{
    /// <summary>
    /// Appends an item to the queue <paramref name="queue"/> (created when missing); returns the number of items in the
    /// queue after the send. The item's bytes are kept as given; <paramref name="typeName"/> travels with them.
    /// <see cref="MemStoreErrorKind.NameIsStack"/> when the name is a stack; <see cref="MemStoreErrorKind.CapacityExceeded"/>
    /// when the store cannot hold the item (nothing sent). O(1) in the queue's length.
    /// </summary>
    public long Send(string queue, ReadOnlySpan<byte> item, string? typeName = null)
    {
        Span<byte> name = stackalloc byte[Layout.MaxNameBytes];
        name = name[..StackName.Encode(queue, name)];
        var hash = XxHash3.HashToUInt64(name);
        Span<byte> itemName = stackalloc byte[CoordinationRecords.ItemNameLength];
        Span<byte> queueHash = stackalloc byte[CoordinationRecords.NameHashLength];
        CoordinationRecords.QueueNameHash(name, queueHash);
        var typeBytes = TypeNameBytes(typeName);
        lock (_processLock)
        {
            var view = BeginWrite(out var now);
            try
            {
                var head = ReadHead(view, name, hash, now) ?? new QueueHead(view.Sequence + 1, view.Sequence + 1, 0);
                RaiseLayoutVersion(view);
                CoordinationRecords.ItemName(queueHash, head.Next, itemName);
                WriteLocked(ref view, itemName, XxHash3.HashToUInt64(itemName), typeBytes, item, RecordKind.QueueItem, null, now, default, restored: null, out _);
                CrashPoints.Hit?.Invoke("send.after-item");
                var sent = head with { Next = head.Next + 1, Bytes = head.Bytes + item.Length };
                WriteHead(ref view, name, hash, sent, now); // commit point
                CrashPoints.Hit?.Invoke("send.after-head");
                EndWrite(view);
                return sent.Count;
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

    /// <summary>Removes and returns up to <paramref name="maxCount"/> items from the head of the queue, oldest first;
    /// none when the queue is empty or missing. Each item goes to exactly one receiver. O(1) per item.</summary>
    public IReadOnlyList<QueueItem> Receive(string queue, int maxCount)
    {
        if (maxCount < 1)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"A receive takes at least one item ({maxCount} were asked for).");
        }

        Span<byte> name = stackalloc byte[Layout.MaxNameBytes];
        name = name[..StackName.Encode(queue, name)];
        var hash = XxHash3.HashToUInt64(name);
        var queueHash = new byte[CoordinationRecords.NameHashLength];
        CoordinationRecords.QueueNameHash(name, queueHash);
        var itemName = new byte[CoordinationRecords.ItemNameLength];
        lock (_processLock)
        {
            var view = BeginWrite(out var now);
            try
            {
                if (ReadHead(view, name, hash, now) is not { Count: > 0 } head)
                {
                    EndWrite(view);
                    return [];
                }

                var taken = (int)Math.Min(maxCount, head.Count);
                var items = new QueueItem[taken];
                long bytes = 0;
                for (var i = 0; i < taken; i++)
                {
                    CoordinationRecords.ItemName(queueHash, head.First + i, itemName);
                    if (Index.Find(view, itemName, XxHash3.HashToUInt64(itemName), out var offset, out _) < 0)
                    {
                        throw Heap.Corrupt(view, 0, $"item {head.First + i} of queue '{queue}' is missing");
                    }

                    items[i] = new QueueItem { Data = Heap.ReadValue(view, offset), TypeName = Heap.ReadTypeName(view, offset) };
                    bytes += items[i].Data.Length;
                }

                WriteHead(ref view, name, hash, head with { First = head.First + taken, Bytes = Math.Max(0, head.Bytes - bytes) }, now); // commit point
                CrashPoints.Hit?.Invoke("receive.after-head");
                for (var i = 0; i < taken; i++)
                {
                    CoordinationRecords.ItemName(queueHash, head.First + i, itemName);
                    RemoveLocked(view, itemName, XxHash3.HashToUInt64(itemName), null);
                    CrashPoints.Hit?.Invoke("receive.after-item");
                }

                TryShrink(ref view);
                EndWrite(view);
                return items;
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

    /// <summary>As <see cref="Receive(string, int)"/>, waiting (asleep in the kernel, woken by a send) until the queue has
    /// an item or <paramref name="timeout"/> passes (then none). <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellation"/> fires.</summary>
    public IReadOnlyList<QueueItem> Receive(string queue, int maxCount, TimeSpan timeout, CancellationToken cancellation)
    {
        CheckTimeout(timeout);
        IReadOnlyList<QueueItem> received = [];
        WaitOnBucket(StackName.Hash(queue), s_changeWaitSlice, timeout, cancellation, (out TimeSpan recheckWithin) =>
        {
            recheckWithin = Timeout.InfiniteTimeSpan;
            // A lock-free look first: receivers woken together do not all queue for the writer lock to find it empty.
            var info = GetInfo(queue);
            if (info is null || (info.Kind == StackKind.Queue && info.Count == 0))
            {
                return false;
            }

            received = Receive(queue, maxCount);
            return received.Count > 0;
        });
        return received;
    }

    /// <summary>The live head of the queue named <paramref name="name"/>; null when the name is missing;
    /// <see cref="MemStoreErrorKind.NameIsStack"/> when it is a stack. Caller holds the writer lock.</summary>
    private static QueueHead? ReadHead(ArenaView view, ReadOnlySpan<byte> name, ulong hash, long now)
    {
        if (Index.Find(view, name, hash, out var offset, out _) < 0 || Heap.IsExpired(view, offset, now))
        {
            return null;
        }

        return Heap.Kind(view, offset) == RecordKind.QueueHead ? Heap.ReadQueueHead(view, offset) : throw StackRefused(name);
    }

    private void WriteHead(ref ArenaView view, ReadOnlySpan<byte> name, ulong hash, QueueHead head, long now)
    {
        Span<byte> value = stackalloc byte[QueueHead.Size];
        head.Write(value);
        WriteLocked(ref view, name, hash, default, value, RecordKind.QueueHead, null, now, default, restored: null, out _);
    }

    private static byte[] TypeNameBytes(string? typeName)
    {
        if (string.IsNullOrEmpty(typeName))
        {
            return [];
        }

        var bytes = Encoding.UTF8.GetBytes(typeName);
        return bytes.Length <= Layout.MaxTypeNameBytes ? bytes
            : throw new MemStoreException(MemStoreErrorKind.InvalidArgument, $"A type name of {bytes.Length} UTF-8 bytes is longer than the limit of {Layout.MaxTypeNameBytes}.");
    }
}
