using System;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Text;
using Memalloc.Core;

namespace Memalloc;

/// <summary>
/// The decoded CliXml text of the large values read last, so that reading an unchanged large value again skips the
/// UTF-8 decode: PSSerializer deserialises only from a string, and decoding 1 MiB makes a 2 MiB string on the
/// large-object heap (about 1 ms, mostly page faults), a third of what Get-MemStack of a 1 MiB string cost on top of
/// PSSerializer.Deserialize. Only text is kept, never deserialised objects: each read still deserialises in its own
/// runspace, with that runspace's type data, and gets objects of its own.
/// <para>
/// An entry answers only for exactly the bytes it was decoded from: the key is (store, stack, version, length) and
/// the XXH3-64 of the bytes just read must match too (hashing runs at memory bandwidth, about 2 % of the decode). So
/// nothing depends on versions never recurring, and bytes damaged after an entry was made are decoded afresh, not
/// answered from the cache. Bounded: values from <see cref="MinBytes"/> to <see cref="MaxTotalBytes"/>, one entry
/// per stack, at most <see cref="MaxEntries"/> entries and <see cref="MaxTotalBytes"/> of values in all, least
/// recently used out first. Shared by every runspace of the process, like the stores.
/// </para>
/// </summary>
internal static class DecodedTextCache
{
    /// <summary>Below this, decoding costs next to nothing beside deserialising, and the string is not a
    /// large-object allocation (85,000 bytes, 42,500 characters).</summary>
    internal const int MinBytes = 64 * 1024;

    internal const int MaxEntries = 8;

    internal const long MaxTotalBytes = 16 * 1024 * 1024;

    private static readonly object s_gate = new();
    private static readonly LinkedList<Entry> s_entries = new(); // most recently used first
    private static long s_totalBytes;

    /// <summary>The text of a CliXml value just read from <paramref name="info"/>'s stack.</summary>
    public static string GetText(StackInfo info, ReadOnlySpan<byte> data)
    {
        if (data.Length < MinBytes || data.Length > MaxTotalBytes)
        {
            return Encoding.UTF8.GetString(data);
        }

        var hash = XxHash3.HashToUInt64(data);
        lock (s_gate)
        {
            for (var node = s_entries.First; node is not null; node = node.Next)
            {
                var entry = node.Value;
                if (entry.Version == info.Version && entry.Length == data.Length && entry.Hash == hash
                    && entry.Name == info.Name && entry.Store == info.Store)
                {
                    s_entries.Remove(node);
                    s_entries.AddFirst(node);
                    return entry.Text;
                }
            }
        }

        var text = Encoding.UTF8.GetString(data);
        Add(new Entry(info.Store, info.Name, info.Version, data.Length, hash, text));
        return text;
    }

    /// <summary>Empties the cache (tests).</summary>
    internal static void Clear()
    {
        lock (s_gate)
        {
            s_entries.Clear();
            s_totalBytes = 0;
        }
    }

    internal static int Count
    {
        get
        {
            lock (s_gate)
            {
                return s_entries.Count;
            }
        }
    }

    private static void Add(Entry added)
    {
        lock (s_gate)
        {
            for (var node = s_entries.First; node is not null; node = node.Next)
            {
                if (node.Value.Name == added.Name && node.Value.Store == added.Store)
                {
                    // An older version of the same stack: it will not be read again.
                    s_totalBytes -= node.Value.Length;
                    s_entries.Remove(node);
                    break;
                }
            }

            s_entries.AddFirst(added);
            s_totalBytes += added.Length;
            while (s_entries.Count > MaxEntries || s_totalBytes > MaxTotalBytes)
            {
                s_totalBytes -= s_entries.Last!.Value.Length;
                s_entries.RemoveLast();
            }
        }
    }

    private sealed record Entry(string Store, string Name, long Version, int Length, ulong Hash, string Text);
}
