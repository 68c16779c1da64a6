using System;
using System.Collections.Generic;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// The arena attachments of one store instance, at most one per segment. The instance owns them: it keeps attached the
/// current arena and the one retired before it (compaction alternates between the two, and reusing the attachment saves
/// shmat and page faults on every switch), and lets go of the others (<see cref="KeepOnly"/>). Every view borrows the
/// attachment it reads through, so one that is let go stays mapped until the last view using it is freed.
/// A shmid is not reused while its segment is attached, so an attachment found here is the segment that was checked when
/// it was made.
/// </summary>
internal sealed class ArenaAttachments : IDisposable
{
    private readonly object _lock = new();
    private readonly List<SharedMemoryAttachment> _owned = new();
    private bool _disposed;

    /// <summary>A borrow of the attachment of <paramref name="shmId"/> this instance already has (of at least
    /// <paramref name="minimumSize"/> bytes), or null: no system call.</summary>
    internal SharedMemoryAttachment? TryBorrowAttached(int shmId, long minimumSize = 0)
    {
        lock (_lock)
        {
            foreach (var attachment in _owned)
            {
                if (attachment.ShmId == shmId && attachment.Size >= minimumSize && attachment.TryBorrow())
                {
                    return attachment;
                }
            }

            return null;
        }
    }

    /// <summary>Attaches <paramref name="shmId"/> (shmat), owns the attachment and returns a borrow of it; null with
    /// <paramref name="errno"/> when shmat fails.</summary>
    internal SharedMemoryAttachment? Attach(int shmId, long size, out int errno)
    {
        var attachment = Libc.ShmAt(shmId, size, out errno);
        if (attachment is null)
        {
            return null;
        }

        HugePages.Advise(attachment);
        attachment.TryBorrow(); // cannot fail: nobody has disposed it yet
        lock (_lock)
        {
            if (_disposed)
            {
                attachment.Dispose(); // the instance is gone: the borrower is its last user
            }
            else
            {
                _owned.Add(attachment);
            }
        }

        return attachment;
    }

    /// <summary>Lets go of every attachment except those of <paramref name="current"/> and <paramref name="retired"/>
    /// (-1: none).</summary>
    internal void KeepOnly(int current, int retired)
    {
        lock (_lock)
        {
            _owned.RemoveAll(attachment =>
            {
                if (attachment.ShmId == current || attachment.ShmId == retired)
                {
                    return false;
                }

                attachment.Dispose();
                return true;
            });
        }
    }

    /// <summary>Lets go of the attachment of a segment that will not be used (a growth that failed after creating it).</summary>
    internal void Drop(SharedMemoryAttachment attachment)
    {
        lock (_lock)
        {
            if (_owned.Remove(attachment))
            {
                attachment.Dispose();
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var attachment in _owned)
            {
                attachment.Dispose();
            }

            _owned.Clear();
        }
    }
}
