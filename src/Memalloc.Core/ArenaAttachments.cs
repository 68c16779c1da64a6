using System;
using System.Collections.Generic;
using Memalloc.Core.Native;

namespace Memalloc.Core;

/// <summary>
/// The arena mappings of one store instance, at most one per arena (System V attachments or POSIX mappings, by the store's
/// backing). The instance owns them: it keeps mapped the current arena and the one retired before it (compaction
/// alternates between the two, and reusing the mapping saves shmat or mmap and page faults on every switch), and lets go
/// of the others (<see cref="KeepOnly"/>). Every view borrows the mapping it reads through, so one that is let go stays
/// mapped until the last view using it is freed. A shmid is not reused while its segment is attached, and an object
/// number names one object per store, so a mapping found here is the arena that was checked when it was made.
/// </summary>
internal sealed class ArenaAttachments : IDisposable
{
    private readonly object _lock = new();
    private readonly List<SharedMapping> _owned = new();
    private bool _disposed;

    /// <summary>The store instance these belong to, which the attachment budget must not park to make room for its own
    /// attachments (null until the instance exists).</summary>
    internal MemStore? Owner { get; set; }

    /// <summary>A borrow of the mapping of arena <paramref name="id"/> this instance already has (of at least
    /// <paramref name="minimumSize"/> bytes), or null: no system call.</summary>
    internal SharedMapping? TryBorrowAttached(int id, long minimumSize = 0)
    {
        lock (_lock)
        {
            foreach (var mapping in _owned)
            {
                if (mapping.Id == id && mapping.Size >= minimumSize && mapping.TryBorrow())
                {
                    return mapping;
                }
            }

            return null;
        }
    }

    /// <summary>Attaches System V segment <paramref name="shmId"/> (shmat, within the process's attachment budget), owns the
    /// attachment and returns a borrow of it; null with <paramref name="errno"/> when shmat fails.</summary>
    internal SharedMapping? Attach(int shmId, long size, out int errno)
    {
        var attachment = AttachmentBudget.Attach(shmId, size, Owner, out errno);
        return attachment is null ? null : Adopt(attachment);
    }

    /// <summary>Owns <paramref name="mapping"/>, just made (huge pages advised: the one place every arena mapping passes),
    /// and returns a borrow of it.</summary>
    internal SharedMapping Adopt(SharedMapping mapping)
    {
        HugePages.Advise(mapping);
        mapping.TryBorrow(); // cannot fail: nobody has disposed it yet
        lock (_lock)
        {
            if (_disposed)
            {
                mapping.Dispose(); // the instance is gone: the borrower is its last user
            }
            else
            {
                _owned.Add(mapping);
            }
        }

        return mapping;
    }

    /// <summary>Lets go of every mapping except those of arenas <paramref name="current"/> and <paramref name="retired"/>
    /// (-1: none).</summary>
    internal void KeepOnly(int current, int retired)
    {
        lock (_lock)
        {
            _owned.RemoveAll(mapping =>
            {
                if (mapping.Id == current || mapping.Id == retired)
                {
                    return false;
                }

                mapping.Dispose();
                return true;
            });
        }
    }

    /// <summary>Lets go of the mapping of an arena that will not be used (a growth that failed after creating it).</summary>
    internal void Drop(SharedMapping mapping)
    {
        lock (_lock)
        {
            if (_owned.Remove(mapping))
            {
                mapping.Dispose();
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var mapping in _owned)
            {
                mapping.Dispose();
            }

            _owned.Clear();
        }
    }
}
