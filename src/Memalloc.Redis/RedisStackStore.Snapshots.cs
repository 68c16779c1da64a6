using System;
using System.Collections.Generic;
using System.Text;
using Memalloc.Core;
using Memalloc.Core.Snapshots;
using StackExchange.Redis;

namespace Memalloc.Redis;

/// <summary>
/// Snapshots of a Redis store (docs/redis-design.md, "Snapshots"): the same file as a shared-memory store's, so a snapshot
/// moves a store between the backends, queues included. The copy is consistent: made between two readings of the store's
/// sequence, which every write, removal, send and receive moves, and taken again when it moved; after a few tries, in one
/// script.
/// </summary>
public sealed partial class RedisStackStore
{
    /// <summary>Copies between writes tried before the copy in one script (which holds up the server while it runs).</summary>
    private const int CopiesBetweenWrites = 3;

    private static readonly RedisValue[] s_snapshotFields = ["v", "t", "e", "c", "m", "x", "h", "k"];

    public StoreSnapshot TakeSnapshot(Func<string, bool>? include)
    {
        for (var attempt = 0; attempt < CopiesBetweenWrites; attempt++)
        {
            if (TryCopyBetweenWrites(include) is { } snapshot)
            {
                return snapshot;
            }
        }

        return CopyInOneScript(include);
    }

    public RestoreOutcome Restore(in SnapshotStack stack, bool noClobber, out long version)
    {
        stack.EnsureWritable();
        var name = stack.NameText;
        MemStore.ValidateName(name);
        version = Write(name, stack.Value.ToArray(), stack.TypeNameText, stack.Encoding, stack.ExpiresMs == 0 ? -1 : stack.ExpiresMs,
            noClobber ? 0 : null, stack.ModifiedMs, stack.CreatedMs);
        return version > 0 ? RestoreOutcome.Written : version < 0 ? RestoreOutcome.Expired : RestoreOutcome.Exists;
    }

    /// <summary>A queue's head, empty, with the snapshot's times and a new version, replacing whatever the name holds
    /// (a queue's items, a stack); with <paramref name="noClobber"/>, nothing when the name exists. One script.</summary>
    public RestoreOutcome RestoreQueue(in SnapshotQueue queue, bool noClobber, out long version)
    {
        queue.EnsureWritable();
        var name = queue.NameText;
        MemStore.ValidateName(name);
        RedisKey[] keys = [_keys.Stack(name), _keys.Sequence, _keys.Names, _keys.Queue(name)];
        RedisValue[] arguments = [noClobber ? "1" : string.Empty, queue.CreatedMs, queue.ModifiedMs, name, _keys.Events.ToString()];
        version = (long)Call(() => _database.ScriptEvaluate(CoordinationScripts.RestoreQueue, keys, arguments));
        return version > 0 ? RestoreOutcome.Written : RestoreOutcome.Exists;
    }

    /// <summary>The next item of a queue <see cref="RestoreQueue"/> began: a send, signed with this store's key, that keeps
    /// the snapshot's Modified on the queue.</summary>
    public long RestoreQueueItem(in SnapshotQueue queue, in SnapshotQueueItem item)
    {
        item.EnsureWritable(queue);
        return Send(queue.NameText, item.Value, item.TypeNameText, queue.ModifiedMs);
    }

    /// <summary>
    /// Reads the sequence and the server's clock, every stack and queue the index names (pipelined, in batches: other
    /// clients' commands run between them), then the sequence again. Unchanged, nothing was written, removed, sent or
    /// received meanwhile, so the copy is the store as it was at the first reading, once the stacks that expired since are
    /// left out; a stack that expired in between is one the copy may have missed, so that copy is not used either. Null
    /// when it must be taken again.
    /// </summary>
    private StoreSnapshot? TryCopyBetweenWrites(Func<string, bool>? include)
    {
        var (sequence, instant) = SequenceAndTime();
        var members = Call(() => _database.SortedSetRangeByScore(_keys.Names, instant, double.PositiveInfinity, Exclude.Start));
        var snapshot = StoreSnapshot.Create(Name);
        try
        {
            var expiredMeanwhile = false;
            for (var start = 0; start < members.Length; start += BatchSize)
            {
                var names = new List<string>(BatchSize);
                for (var i = start; i < Math.Min(start + BatchSize, members.Length); i++)
                {
                    if ((string?)members[i] is { } name && (include is null || include(name)))
                    {
                        names.Add(name);
                    }
                }

                var batch = _database.CreateBatch();
                var reads = names.ConvertAll(name => batch.HashGetAsync(_keys.Stack(name), s_snapshotFields));
                batch.Execute();
                var queues = new List<(string Name, RedisValue[] Fields)>();
                for (var i = 0; i < names.Count; i++)
                {
                    var fields = Call(() => reads[i].GetAwaiter().GetResult());
                    if (IsQueue(fields[7]))
                    {
                        queues.Add((names[i], fields));
                    }
                    else
                    {
                        expiredMeanwhile |= fields[0].IsNull || !AppendLive(snapshot, names[i], fields, 0, instant);
                    }
                }

                var itemBatch = _database.CreateBatch();
                var itemReads = queues.ConvertAll(queue => itemBatch.ListRangeAsync(_keys.Queue(queue.Name)));
                itemBatch.Execute();
                for (var i = 0; i < queues.Count; i++)
                {
                    var items = Call(() => itemReads[i].GetAwaiter().GetResult());
                    AppendQueue(snapshot, queues[i].Name, (long)queues[i].Fields[3], (long)queues[i].Fields[4], items);
                }
            }

            if (expiredMeanwhile || SequenceAndTime().Sequence != sequence)
            {
                snapshot.Dispose();
                return null;
            }

            snapshot.CompleteAt(instant);
            return snapshot;
        }
        catch
        {
            snapshot.Dispose();
            throw;
        }
    }

    /// <summary>The whole store in one script, at one instant by construction: the server serves nobody else while it runs.
    /// Its reply is the instant, then per name 's' and the stack's fields v t e c m x h, or 'q', the queue's c and m, its
    /// item count and the items (StoreScripts.Snapshot).</summary>
    private StoreSnapshot CopyInOneScript(Func<string, bool>? include)
    {
        var result = (RedisValue[])Call(() => _database.ScriptEvaluate(StoreScripts.Snapshot, [_keys.Names, _keys.Sequence],
            [_keys.StackPrefix, _keys.Queue(string.Empty).ToString()]))!;
        var instant = (long)result[0];
        var snapshot = StoreSnapshot.Create(Name);
        try
        {
            var at = 1;
            while (at < result.Length)
            {
                var name = (string)result[at]!;
                var chosen = include is null || include(name);
                if (result[at + 1] == "q")
                {
                    var count = (int)result[at + 4];
                    if (chosen)
                    {
                        AppendQueue(snapshot, name, (long)result[at + 2], (long)result[at + 3], result.AsSpan(at + 5, count).ToArray());
                    }

                    at += 5 + count;
                }
                else
                {
                    if (chosen)
                    {
                        _ = AppendLive(snapshot, name, result, at + 2, instant);
                    }

                    at += 9;
                }
            }

            snapshot.CompleteAt(instant);
            return snapshot;
        }
        catch
        {
            snapshot.Dispose();
            throw;
        }
    }

    /// <summary>Adds a queue with its items as the list holds them (oldest first), after checking each item's signature:
    /// a snapshot never carries an item nobody signed.</summary>
    private void AppendQueue(StoreSnapshot snapshot, string name, long createdMs, long modifiedMs, RedisValue[] encodedItems)
    {
        var items = new List<(byte[] TypeName, byte[] Value)>(encodedItems.Length);
        foreach (var encoded in encodedItems)
        {
            var item = DecodeItem(name, (byte[])encoded!);
            if (item.Untrusted)
            {
                throw Untrusted(name, "An item of queue");
            }

            items.Add((Encoding.UTF8.GetBytes(item.TypeName ?? string.Empty), item.Data));
        }

        snapshot.AppendQueue(Encoding.UTF8.GetBytes(name), createdMs, modifiedMs, items);
    }

    /// <summary>Adds the stack whose fields v t e c m x h start at <paramref name="at"/>, after checking its signature (a
    /// snapshot never carries a value nobody signed); false, and nothing added, when it had expired at the instant.</summary>
    private bool AppendLive(StoreSnapshot snapshot, string name, RedisValue[] fields, int at, long instant)
    {
        var expires = fields[at + 5].IsNullOrEmpty ? 0 : (long)fields[at + 5];
        if (expires != 0 && expires <= instant)
        {
            return false;
        }

        var value = (byte[]?)fields[at] ?? [];
        var typeName = (string?)fields[at + 1] ?? string.Empty;
        var encoding = (int)fields[at + 2];
        if (_signer is not null && !_signer.IsValid((byte[]?)fields[at + 6] ?? [], name, typeName.Length == 0 ? null : typeName, encoding,
            expires == 0 ? -1 : expires, value))
        {
            throw Untrusted(name);
        }

        snapshot.Append(new SnapshotStack(Encoding.UTF8.GetBytes(name), Encoding.UTF8.GetBytes(typeName), value, (ValueEncoding)encoding,
            (long)fields[at + 3], (long)fields[at + 4], expires));
        return true;
    }

    private (long Sequence, long Time) SequenceAndTime()
    {
        var result = (RedisValue[])Call(() => _database.ScriptEvaluate(StoreScripts.SequenceAndTime, [_keys.Sequence]))!;
        return ((long)result[0], (long)result[1]);
    }
}
