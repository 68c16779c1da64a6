using System;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Memalloc.Core.Snapshots;

/// <summary>
/// Every offset and constant of the snapshot file format, in one place (docs/snapshot-format.md describes the same
/// bytes for readers in other languages). All integers are little-endian.
/// A file is: header (128 bytes), records, trailer (32 bytes). The header's content checksum covers records and
/// trailer; its own checksum covers the header's first 120 bytes.
/// </summary>
internal static class SnapshotFormat
{
    /// <summary>"\x89MEMSNAP": the high first byte tells a binary file from text at once, as PNG's does.</summary>
    internal const ulong Magic = 0x50414E534D454D89;
    internal const ushort FormatVersion = 1;

    // ---- Header: 128 bytes. ----
    internal const int HeaderSize = 128;
    internal const int MagicOffset = 0;                 // u64 Magic
    internal const int VersionOffset = 8;               // u16 FormatVersion
    internal const int HeaderSizeOffset = 10;           // u16 HeaderSize
    internal const int FlagsOffset = 12;                // u32 0: no flags are defined; a reader refuses any it does not know
    internal const int ContentLengthOffset = 16;        // i64 bytes after the header: records and trailer
    internal const int ContentChecksumOffset = 24;      // u64 XXH3-64 (seed 0) of those bytes
    internal const int TakenAtOffset = 32;              // i64 Unix ms of the instant the snapshot holds
    internal const int StoreNameLengthOffset = 40;      // u8 1..64
    internal const int StoreNameOffset = 48;            // 64 bytes ASCII, zero padded
    internal const int StoreNameCapacity = 64;
    internal const int HeaderChecksumOffset = 120;      // u64 XXH3-64 (seed 0) of header bytes [0, 120)

    // ---- Records: a 16-byte envelope, then a payload whose shape depends on the kind. ----
    internal const int EnvelopeSize = 16;
    internal const int EnvelopeKindOffset = 0;          // u8 SnapshotRecordKind
    internal const int EnvelopeReservedOffset = 1;      // 7 bytes, 0
    internal const int EnvelopePayloadLengthOffset = 8; // i64 bytes of the payload that follows

    // Stack payload: a 32-byte head, then name, type name and value, unpadded.
    internal const int StackHeadSize = 32;
    internal const int StackEncodingOffset = 0;         // u8 ValueEncoding
    internal const int StackNameLengthOffset = 1;       // u8 n, 1..255
    internal const int StackTypeNameLengthOffset = 2;   // u16 t, 0..4096
    internal const int StackReservedOffset = 4;         // u32 0
    internal const int StackCreatedOffset = 8;          // i64 Unix ms
    internal const int StackModifiedOffset = 16;        // i64 Unix ms
    internal const int StackExpiresOffset = 24;         // i64 Unix ms, 0 = never
    // name: n bytes at 32; type name: t bytes at 32 + n; value: payloadLength - 32 - n - t bytes at 32 + n + t.

    // Queue payload: a 40-byte head and the name, then the items in FIFO order, each a 16-byte item head, its type name
    // and its value, unpadded. payloadLength = 40 + n + the sum over the items of (16 + t + v).
    internal const int QueueHeadSize = 40;
    internal const int QueueNameLengthOffset = 0;       // u8 n, 1..255
    internal const int QueueReservedOffset = 1;         // 7 bytes, 0
    internal const int QueueCreatedOffset = 8;          // i64 Unix ms: the queue's head's first write
    internal const int QueueModifiedOffset = 16;        // i64 Unix ms: its last write
    internal const int QueueItemCountOffset = 24;       // i64 c, items that follow the name
    internal const int QueueItemBytesOffset = 32;       // i64 sum of the items' value lengths
    // name: n bytes at 40; then c items.
    internal const int ItemHeadSize = 16;
    internal const int ItemTypeNameLengthOffset = 0;    // u16 t, 0..4096
    internal const int ItemReservedOffset = 2;          // 6 bytes, 0 (the store keeps no encoding for an item)
    internal const int ItemValueLengthOffset = 8;       // i64 v, 0..Array.MaxLength
    // type name: t bytes at 16; value: v bytes at 16 + t.

    // ---- Trailer: 32 bytes at the end of the content. ----
    internal const int TrailerSize = 32;
    /// <summary>"MEMSNEND".</summary>
    internal const ulong TrailerMagic = 0x444E454E534D454D;
    internal const int TrailerMagicOffset = 0;          // u64 TrailerMagic
    internal const int TrailerRecordCountOffset = 8;    // i64 records of every kind (queue records included)
    internal const int TrailerStackCountOffset = 16;    // i64 stack records
    internal const int TrailerValueBytesOffset = 24;    // i64 sum of the stack records' value lengths (not the queues')

    /// <summary>The largest payload a reader accepts: a stack's value must fit in one .NET array to be written back.</summary>
    internal static long MaxStackPayload => StackHeadSize + byte.MaxValue + Layout.MaxTypeNameBytes + (long)Array.MaxLength;

    /// <summary>Bytes of a queue record's payload: its head and name, and per item an item head, type name and value.</summary>
    internal static long QueuePayloadLength(int nameLength, long itemCount, long itemTypeNameBytes, long itemBytes) =>
        QueueHeadSize + nameLength + (itemCount * ItemHeadSize) + itemTypeNameBytes + itemBytes;

    /// <summary>A time a record or header may carry: Unix ms from 1970 to the end of 9999, the store's own range.</summary>
    internal static bool IsValidTime(long unixMs) => unixMs is >= 0 and <= Layout.MaxUnixMilliseconds;

    internal static byte[] BuildHeader(string storeName, long takenAtMs, long contentLength, ulong contentChecksum)
    {
        var header = new byte[HeaderSize];
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(MagicOffset), Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(VersionOffset), FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(HeaderSizeOffset), HeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(ContentLengthOffset), contentLength);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(ContentChecksumOffset), contentChecksum);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(TakenAtOffset), takenAtMs);
        header[StoreNameLengthOffset] = (byte)Encoding.ASCII.GetBytes(storeName, header.AsSpan(StoreNameOffset, StoreNameCapacity));
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(HeaderChecksumOffset), HeaderChecksum(header));
        return header;
    }

    internal static ulong HeaderChecksum(ReadOnlySpan<byte> header) => XxHash3.HashToUInt64(header[..HeaderChecksumOffset]);
}

/// <summary>What a record holds. New kinds are an additive change: a reader skips kinds it does not know (it can, as
/// every record says its length) and says how many it skipped.</summary>
public enum SnapshotRecordKind : byte
{
    /// <summary>One stack: encoding, name, type name, created, modified, expiry, value.</summary>
    Stack = 1,

    /// <summary>One queue: name, created, modified, then its items in FIFO order (type name and value each).</summary>
    Queue = 2,
}
