using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO.Hashing;
using System.Linq;
using System.Text;

namespace Memalloc.Core.Tests.Model;

/// <summary>
/// What a store promises, as a dictionary: each write takes the next version of one store-wide sequence (versions
/// here count from 1; the tests subtract the real store's starting point), a record with an expiry is gone for
/// everyone at <c>now ≥ expires</c> and takes no name, compare-and-set compares with the live record's version,
/// removal reports whether a live record was there, "created" survives overwrites of a live stack. No capacity:
/// growth and compaction must be invisible.
/// </summary>
internal sealed class StoreModel
{
    internal sealed record Entry(byte[] Value, long Version, long Created, long Modified, long Expires);

    private readonly SortedDictionary<string, Entry> _entries = new(Utf8Order.Instance);

    /// <summary>Model time, Unix ms (the sequential tests drive the store's clock with it).</summary>
    internal long Clock { get; set; } = 1_800_000_000_000;

    internal long Sequence { get; private set; }

    /// <summary>Each operation's result, in the words <see cref="StoreUnderTest.Results"/> uses for the real store's.</summary>
    internal List<string> Transcript { get; } = new();

    internal void Record(string result) => Transcript.Add(result);

    internal Entry? Live(string name) =>
        _entries.TryGetValue(name, out var entry) && (entry.Expires == 0 || Clock < entry.Expires) ? entry : null;

    internal IEnumerable<string> LiveNames => _entries.Keys.Where(n => Live(n) is not null);

    /// <summary>TrySet: <paramref name="expected"/> null = unconditional, 0 = must not exist, else the live version.</summary>
    internal bool TrySet(string name, byte[] value, long expires, long? expected, out long version)
    {
        var live = Live(name);
        if (expected is { } e && (e == 0 ? live is not null : live is null || live.Version != e))
        {
            version = 0;
            return false;
        }

        version = ++Sequence;
        _entries[name] = new Entry(value, version, live?.Created ?? Clock, Clock, expires);
        return true;
    }

    internal bool Remove(string name, long? expected)
    {
        var live = Live(name);
        if (live is not null && expected is { } e && live.Version != e)
        {
            return false;
        }

        _entries.Remove(name);
        return live is not null;
    }

    /// <summary>The same text for a value whichever side produced it (length and hash: results stay short).</summary>
    internal static string Describe(byte[]? value) => value is null ? "none"
        : string.Create(CultureInfo.InvariantCulture, $"{value.Length}b#{XxHash3.HashToUInt64(value) & 0xFFFFFF:x6}");

    internal static string DescribeEntry(Entry? entry) => entry is null ? "none"
        : string.Create(CultureInfo.InvariantCulture, $"{Describe(entry.Value)} v={entry.Version} c={entry.Created} m={entry.Modified} e={entry.Expires}");

    /// <summary>Deterministic bytes of a given length (the generators pick length and seed; printing stays short).</summary>
    internal static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    internal static long Ms(DateTime time) => (long)(time - DateTime.UnixEpoch).TotalMilliseconds;
}

/// <summary>The store lists names in the order of their UTF-8 bytes.</summary>
internal sealed class Utf8Order : IComparer<string>
{
    internal static Utf8Order Instance { get; } = new();

    public int Compare(string? x, string? y) =>
        Encoding.UTF8.GetBytes(x ?? "").AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y ?? ""));
}
