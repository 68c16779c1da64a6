namespace Memalloc.Core;

/// <summary>The times a restored record keeps from its snapshot (Unix ms), instead of the write's own clock reading:
/// an imported stack shows when it was really made and last changed.</summary>
internal readonly record struct RestoredTimes(long Created, long Modified);
