using System;
using Memalloc.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Memalloc.Core;

/// <summary>
/// Whether the process holding a lock record lives, asked again and again by one waiter: the full test of the writer
/// lock (<see cref="WriterLock.IsOwnerDead"/>) when the holder changes, then a pidfd's poll where Linux gives one (one
/// system call; the full test each time elsewhere). The full test runs after the pidfd is opened: a holder found alive
/// with its start time then is the process the descriptor names, not an earlier one whose pid it reused.
/// </summary>
internal sealed class OwnerWatch : IDisposable
{
    private ulong _owner;
    private SafeFileHandle? _pidfd;

    internal bool IsDead(ulong owner)
    {
        if (owner == WriterLock.OwnWord)
        {
            return false; // another runspace of this process
        }

        if (owner != _owner)
        {
            Dispose();
            _owner = owner;
            var pidfd = LinuxPidfd.Open(WriterLock.OwnerPid(owner));
            if (WriterLock.IsOwnerDead(owner))
            {
                pidfd?.Dispose();
                return true;
            }

            _pidfd = pidfd;
            return false;
        }

        return _pidfd is null ? WriterLock.IsOwnerDead(owner) : LinuxPidfd.HasExited(_pidfd);
    }

    public void Dispose()
    {
        _pidfd?.Dispose();
        _pidfd = null;
    }
}
