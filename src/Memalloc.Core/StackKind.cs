namespace Memalloc.Core;

/// <summary>What a name holds: a name is a stack or a queue, never both (docs/coordination-design.md, "What users see").</summary>
public enum StackKind
{
    /// <summary>One value, written with Set and read with Get.</summary>
    Stack,
    /// <summary>Items in first-in, first-out order, appended by Send and taken by Receive.</summary>
    Queue,
}
