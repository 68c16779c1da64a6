using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Memalloc.Core;
using StackExchange.Redis;

namespace Memalloc.Redis;

/// <summary>Statistics, Verify and destruction of a Redis store: walks of the name index, in batches.</summary>
public sealed partial class RedisStackStore
{
    private const int BatchSize = 512;

    public StoreStatistics GetStatistics()
    {
        var infos = List();
        long bytes = 0;
        foreach (var info in infos)
        {
            bytes += info.Size;
        }

        return new StoreStatistics
        {
            Name = Name,
            Backend = "Redis",
            Server = _server,
            KeyPrefix = KeyPrefix,
            SegmentIds = [],
            BytesUsed = bytes,
            Entries = infos.Count,
            Permissions = string.Empty,
            Owner = string.Empty,
            OwnerUid = -1,
            Waiters = ListedWaiters().Count,
            WaitPrimitive = WaitPrimitive.PubSub,
            Warnings = _signer is null ? ["Unsigned: values are read without checking who wrote them (Register-MemStore -Unsigned)."] : [],
        };
    }

    /// <summary>Every stack the index names is read and its signature checked; a stack that fails is a problem.</summary>
    public VerifyReport Verify()
    {
        var problems = new List<string>();
        var names = ListNames();
        foreach (var name in names)
        {
            try
            {
                _ = TryGet(name, out _);
            }
            catch (MemStoreException e) when (e.Kind is MemStoreErrorKind.UntrustedValue)
            {
                problems.Add($"Stack '{name}': no valid signature of the store's key.");
            }
            catch (MemStoreException e) when (e.Kind is MemStoreErrorKind.NameIsQueue)
            {
                // A queue: its items are checked as they are received, never read here.
            }
        }

        return new VerifyReport { Store = Name, Problems = problems, EntriesChecked = names.Count, RecordsChecked = names.Count };
    }

    /// <summary>Deletes every stack, queue and lock and the indexes (never the version sequence), and wakes every waiter;
    /// false when there was no stack or queue.</summary>
    internal bool DestroyData()
    {
        var members = Call(() => _database.SortedSetRangeByRank(_keys.Names));
        for (var start = 0; start < members.Length; start += BatchSize)
        {
            var count = Math.Min(BatchSize, members.Length - start);
            var keys = new RedisKey[2 * count];
            for (var i = 0; i < count; i++)
            {
                keys[2 * i] = _keys.Stack(members[start + i]!);
                keys[(2 * i) + 1] = _keys.Queue(members[start + i]!);
            }

            _ = Call(() => _database.KeyDelete(keys));
        }

        var locks = Call(() => _database.SortedSetRangeByRank(_keys.Locks));
        _ = Call(() => _database.KeyDelete([.. Array.ConvertAll(locks, l => _keys.Lock((string)l!)), _keys.Locks, _keys.Names]));
        _ = Call(() => _database.StringIncrement(_keys.Sequence)); // a snapshot copying meanwhile sees the removal
        _ = Call(() => _database.Publish(_keys.Events, StoreEvents.Everything));
        return members.Length > 0;
    }
}
