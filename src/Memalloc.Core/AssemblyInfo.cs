using System.Runtime.CompilerServices;

// Name and type-name buffers are stackalloc'd on every call; they are always written before being read, so the
// runtime need not zero them (part of the no-allocation, no-waste write path).
[module: SkipLocalsInit]
