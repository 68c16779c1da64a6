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
        }

        return new VerifyReport { Store = Name, Problems = problems, EntriesChecked = names.Count, RecordsChecked = names.Count };
    }

    /// <summary>Deletes every stack and the index (never the version sequence); false when there was no stack.</summary>
    internal bool DestroyData()
    {
        var members = Call(() => _database.SortedSetRangeByRank(_keys.Names));
        for (var start = 0; start < members.Length; start += BatchSize)
        {
            var keys = new RedisKey[Math.Min(BatchSize, members.Length - start)];
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = _keys.Stack(members[start + i]!);
            }

            _ = Call(() => _database.KeyDelete(keys));
        }

        _ = Call(() => _database.KeyDelete(_keys.Names));
        _ = Call(() => _database.StringIncrement(_keys.Sequence)); // a snapshot copying meanwhile sees the removal
        return members.Length > 0;
    }
}
