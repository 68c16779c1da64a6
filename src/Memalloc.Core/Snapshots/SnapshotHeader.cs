using System;
using System.Buffers.Binary;
using System.Text;

namespace Memalloc.Core.Snapshots;

/// <summary>The checks of a snapshot's header, in the order that gives the clearest reason for a refusal: is it a
/// snapshot at all, is the header whole and undamaged, can this version read it, is the file as long as it says.</summary>
internal static class SnapshotHeader
{
    internal static (string StoreName, DateTime TakenAt, long ContentLength, ulong ContentChecksum) Check(string path, ReadOnlySpan<byte> header, long fileLength)
    {
        if (fileLength == 0)
        {
            throw SnapshotErrors.InvalidFile(path, "the file is empty");
        }

        if (header.Length < sizeof(ulong) || BinaryPrimitives.ReadUInt64LittleEndian(header) != SnapshotFormat.Magic)
        {
            throw SnapshotErrors.InvalidFile(path, LooksLikeCliXml(header)
                ? "it is a CliXml file (from Export-Clixml), not a Memalloc snapshot: read it with Import-Clixml"
                : "it is not a Memalloc snapshot (it does not start with the snapshot signature)");
        }

        if (header.Length < SnapshotFormat.HeaderSize)
        {
            throw SnapshotErrors.InvalidFile(path, $"the file is truncated: {fileLength} bytes, not even the {SnapshotFormat.HeaderSize}-byte header");
        }

        // The header checksum's place is the same in every format version, so it is checked before the version.
        if (SnapshotFormat.HeaderChecksum(header) != BinaryPrimitives.ReadUInt64LittleEndian(header[SnapshotFormat.HeaderChecksumOffset..]))
        {
            throw SnapshotErrors.InvalidFile(path, "its header is damaged (it does not match its checksum)");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(header[SnapshotFormat.VersionOffset..]);
        var headerSize = BinaryPrimitives.ReadUInt16LittleEndian(header[SnapshotFormat.HeaderSizeOffset..]);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(header[SnapshotFormat.FlagsOffset..]);
        if (version != SnapshotFormat.FormatVersion || headerSize != SnapshotFormat.HeaderSize)
        {
            throw SnapshotErrors.InvalidFile(path,
                $"it is in snapshot format version {version}, written by another version of Memalloc; this version reads format {SnapshotFormat.FormatVersion}");
        }

        if (flags != 0)
        {
            throw SnapshotErrors.InvalidFile(path, $"it uses features (flags 0x{flags:X}) that this version of Memalloc does not know");
        }

        var contentLength = BinaryPrimitives.ReadInt64LittleEndian(header[SnapshotFormat.ContentLengthOffset..]);
        var actual = fileLength - SnapshotFormat.HeaderSize;
        if (contentLength < SnapshotFormat.TrailerSize)
        {
            throw SnapshotErrors.InvalidFile(path, $"its header gives an impossible length ({contentLength} bytes)");
        }

        if (actual < contentLength)
        {
            throw SnapshotErrors.InvalidFile(path, $"the file is truncated: {fileLength} bytes of the {SnapshotFormat.HeaderSize + contentLength} its header gives");
        }

        if (actual > contentLength)
        {
            throw SnapshotErrors.InvalidFile(path, $"{actual - contentLength} bytes follow the end of the snapshot ({SnapshotFormat.HeaderSize + contentLength} bytes)");
        }

        var takenAt = BinaryPrimitives.ReadInt64LittleEndian(header[SnapshotFormat.TakenAtOffset..]);
        int nameLength = header[SnapshotFormat.StoreNameLengthOffset];
        var nameField = header.Slice(SnapshotFormat.StoreNameOffset, SnapshotFormat.StoreNameCapacity);
        var storeName = nameLength is > 0 and <= SnapshotFormat.StoreNameCapacity ? Encoding.ASCII.GetString(nameField[..nameLength]) : string.Empty;
        if (!SnapshotFormat.IsValidTime(takenAt) || !IsValidStoreName(storeName) || nameField[nameLength..].ContainsAnyExcept((byte)0)
            || header[(SnapshotFormat.StoreNameLengthOffset + 1)..SnapshotFormat.StoreNameOffset].ContainsAnyExcept((byte)0)
            || header[(SnapshotFormat.StoreNameOffset + SnapshotFormat.StoreNameCapacity)..SnapshotFormat.HeaderChecksumOffset].ContainsAnyExcept((byte)0))
        {
            throw SnapshotErrors.InvalidFile(path, "its header holds an impossible store name, time or reserved byte");
        }

        return (storeName, Heap.FromUnixMs(takenAt), contentLength, BinaryPrimitives.ReadUInt64LittleEndian(header[SnapshotFormat.ContentChecksumOffset..]));
    }

    private static bool IsValidStoreName(string storeName)
    {
        try
        {
            MemStore.ValidateStoreName(storeName);
            return true;
        }
        catch (MemStoreException)
        {
            return false;
        }
    }

    /// <summary>An XML declaration or CliXml's root element, after an optional UTF-8 byte order mark and white space.</summary>
    private static bool LooksLikeCliXml(ReadOnlySpan<byte> start)
    {
        if (start.StartsWith("\uFEFF"u8))
        {
            start = start[3..];
        }

        start = start.TrimStart(" \t\r\n"u8);
        return start.StartsWith("<?xml"u8) || start.StartsWith("<Objs"u8);
    }
}
