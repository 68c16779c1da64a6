namespace Memalloc.Core;

/// <summary>What the current (or last, if it died) writer was doing; kept in the anchor.</summary>
internal enum WriterState : uint
{
    Idle = 0,
    Writing = 1,
    Growing = 2,
}
