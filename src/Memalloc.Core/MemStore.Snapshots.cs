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
    /// A consistent snapshot of the live stacks (docs/snapshot-format.md, "Export"): their records are copied into private
    /// memory under the writer lock, at one instant, so that writers wait only for the copy and readers not at all.
    /// <paramref name="include"/> (called under the lock: keep it to a name match) chooses stacks by name.
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
    /// the write holds the lock, nor, with <paramref name="noClobber"/>, when the stack exists.
    /// </summary>
    public RestoreOutcome Restore(in SnapshotStack stack, bool noClobber, out long version)
    {
        Span<byte> nameBytes = stackalloc byte[Layout.MaxNameBytes];
        nameBytes = nameBytes[..StackName.Encode(stack.NameText, nameBytes)];
        if (stack.Encoding is not (ValueEncoding.Raw or ValueEncoding.CliXml) || stack.TypeName.Length > Layout.MaxTypeNameBytes
            || !SnapshotFormat.IsValidTime(stack.CreatedMs) || !SnapshotFormat.IsValidTime(stack.ModifiedMs)
            || (stack.ExpiresMs != 0 && !SnapshotFormat.IsValidTime(stack.ExpiresMs)))
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidArgument,
                $"Stack '{stack.NameText}' has an unknown encoding, a type name too long or a time out of range.");
        }

        var written = Commit(nameBytes, XxHash3.HashToUInt64(nameBytes), stack.TypeName, stack.Value, stack.Encoding,
            noClobber ? WriteOptions.MustNotExist : null, Expiry.AtUnixMs(stack.ExpiresMs), new RestoredTimes(stack.CreatedMs, stack.ModifiedMs),
            out version, out var expired);
        return written ? RestoreOutcome.Written : expired ? RestoreOutcome.Expired : RestoreOutcome.Exists;
    }
}
