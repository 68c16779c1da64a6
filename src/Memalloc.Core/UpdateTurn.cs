using System;
using System.Threading;

namespace Memalloc.Core;

/// <summary>
/// The turn of one stack's updaters (docs/store-design.md, "Update turns"): held while a read-modify-write that keeps
/// losing its compare-and-set runs, so that a slow updater is not starved by fast ones. Dispose gives the turn back.
/// Readers and plain writers never look at turns.
/// </summary>
public sealed class UpdateTurn : IDisposable
{
    private readonly Action _release;
    private int _released;

    internal UpdateTurn(Action release) => _release = release;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _release();
        }
    }
}
