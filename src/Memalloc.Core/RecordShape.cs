namespace Memalloc.Core;

/// <summary>A record's lengths as read once from shared memory and checked by <see cref="Heap.TryReadShape"/>.</summary>
internal readonly struct RecordShape
{
    internal RecordShape(int nameLength, int typeNameLength, long valueLength)
    {
        NameLength = nameLength;
        TypeNameLength = typeNameLength;
        ValueLength = valueLength;
    }

    internal int NameLength { get; }

    internal int TypeNameLength { get; }

    internal long ValueLength { get; }

    internal long ValueOffset => Layout.ValueOffset(NameLength, TypeNameLength);

    internal long Size => Layout.RecordSize(NameLength, TypeNameLength, ValueLength);
}
