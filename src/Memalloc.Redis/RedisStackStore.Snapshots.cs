using System;
using System.Collections.Generic;
using System.Text;
using Memalloc.Core;
using Memalloc.Core.Snapshots;
using StackExchange.Redis;

namespace Memalloc.Redis;

/// <summary>
/// Snapshots of a Redis store (docs/redis-design.md, "Snapshots"): the same file as a shared-memory store's, so a snapshot
/// moves a store between the backends. The copy is consistent: made between two readings of the store's sequence, which
/// every write and removal moves, and taken again when it moved; after a few tries, in one script.
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

    public RestoreOutcome RestoreQueue(in SnapshotQueue queue, bool noClobber, out long version) =>
        throw new MemStoreException(MemStoreErrorKind.NotSupported, $"Queue '{queue.NameText}': a Redis store cannot import queues yet.");

    public long RestoreQueueItem(in SnapshotQueue queue, in SnapshotQueueItem item) =>
        throw new MemStoreException(MemStoreErrorKind.NotSupported, $"Queue '{queue.NameText}': a Redis store cannot import queues yet.");

    /// <summary>
    /// Reads the sequence and the server's clock, every stack the index names (queues are not in snapshots) (pipelined, in batches: other clients'
    /// commands run between them), then the sequence again. Unchanged, nothing was written or removed meanwhile, so the
    /// copy is the store as it was at the first reading, once the stacks that expired since are left out; a stack that
    /// expired in between is one the copy may have missed, so that copy is not used either. Null when it must be taken again.
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
                for (var i = 0; i < names.Count; i++)
                {
                    var fields = Call(() => reads[i].GetAwaiter().GetResult());
                    if (!IsQueue(fields[7]))
                    {
                        expiredMeanwhile |= fields[0].IsNull || !AppendLive(snapshot, names[i], fields, 0, instant);
                    }
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

    /// <summary>The whole store in one script, at one instant by construction: the server serves nobody else while it runs.</summary>
    private StoreSnapshot CopyInOneScript(Func<string, bool>? include)
    {
        var result = (RedisValue[])Call(() => _database.ScriptEvaluate(StoreScripts.Snapshot, [_keys.Names, _keys.Sequence], [_keys.StackPrefix]))!;
        var instant = (long)result[0];
        var snapshot = StoreSnapshot.Create(Name);
        try
        {
            for (var at = 1; at + 7 < result.Length; at += 8)
            {
                var name = (string)result[at]!;
                if (include is null || include(name))
                {
                    _ = AppendLive(snapshot, name, result, at + 1, instant);
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
