using System;
using Memalloc.Core;
using Xunit;

namespace Memalloc.Core.Tests;

public class ValueTests
{
    [Fact]
    public void Empty_value_round_trips_and_differs_from_missing()
    {
        using var t = new TestStore();
        t.Store.Set("empty", ReadOnlySpan<byte>.Empty);
        var value = t.Store.Get("empty");
        Assert.NotNull(value);
        Assert.Empty(value);
        Assert.Equal(0, t.Store.GetInfo("empty")!.Size);
        Assert.True(t.Store.Verify().IsValid);
    }

    [Fact]
    public void Values_of_many_MiB_round_trip_through_growth()
    {
        using var t = new TestStore();
        var big = new byte[24 << 20];
        new Random(42).NextBytes(big);
        t.Store.Set("big", big);
        Assert.Equal(big, t.Store.Get("big"));
        var stats = t.Store.GetStatistics();
        Assert.True(stats.Capacity >= big.Length);
        Assert.True(stats.Generation > 1);
        Assert.True(t.Store.Verify().IsValid);
    }

    [Fact]
    public void Metadata_round_trips_in_one_snapshot()
    {
        using var t = new TestStore();
        var expires = DateTime.UtcNow.AddHours(1);
        Assert.True(t.Store.TrySet("x", "<Objs/>"u8, new WriteOptions { Encoding = ValueEncoding.CliXml, TypeName = "System.Collections.Hashtable", Expires = expires }, out var version));
        Assert.True(t.Store.TryGet("x", out var entry));
        Assert.Equal("<Objs/>"u8.ToArray(), entry!.Data);
        Assert.Equal(ValueEncoding.CliXml, entry.Info.Encoding);
        Assert.Equal("System.Collections.Hashtable", entry.Info.TypeName);
        Assert.Equal(version, entry.Info.Version);
        Assert.Equal(7, entry.Info.Size);
        Assert.NotNull(entry.Info.Expires);
        Assert.True(Math.Abs((entry.Info.Expires!.Value - expires).TotalMilliseconds) < 1);

        t.Store.Set("raw", "r"u8);
        var raw = t.Store.GetInfo("raw")!;
        Assert.Null(raw.TypeName);
        Assert.Null(raw.Expires);
        Assert.Equal(ValueEncoding.Raw, raw.Encoding);
        Assert.False(t.Store.TryGet("nope", out var none));
        Assert.Null(none);
    }

    [Fact]
    public void Invalid_write_options_are_InvalidArgument()
    {
        using var t = new TestStore();
        Assert.Equal(MemStoreErrorKind.InvalidArgument, Assert.Throws<MemStoreException>(() =>
            t.Store.TrySet("x", "1"u8, new WriteOptions { Expires = DateTime.UtcNow.AddSeconds(-1) }, out _)).Kind);
        Assert.Equal(MemStoreErrorKind.InvalidArgument, Assert.Throws<MemStoreException>(() =>
            t.Store.TrySet("x", "1"u8, new WriteOptions { Encoding = (ValueEncoding)7 }, out _)).Kind);
        Assert.Equal(MemStoreErrorKind.InvalidArgument, Assert.Throws<MemStoreException>(() =>
            t.Store.TrySet("x", "1"u8, new WriteOptions { TypeName = new string('T', 5000) }, out _)).Kind);
        Assert.False(t.Store.Exists("x"));
        Assert.True(t.Store.Verify().IsValid);
    }
}

public class CopyValueTests
{
    [Fact]
    public void CopyValue_copies_without_allocating_and_reports_lengths()
    {
        using var t = new TestStore();
        var big = new byte[3 << 20];
        new Random(7).NextBytes(big);
        t.Store.Set("big", big);
        t.Store.Set("small", "abc"u8);
        var buffer = new byte[4 << 20];
        Assert.Equal(big.Length, t.Store.CopyValue("big", buffer));
        Assert.True(buffer.AsSpan(0, big.Length).SequenceEqual(big));
        Assert.Equal(3, t.Store.CopyValue("small", buffer));
        Assert.Equal("abc"u8.ToArray(), buffer[..3]);
        Assert.Equal(-1, t.Store.CopyValue("missing", buffer));
        var tiny = new byte[2];
        Assert.Equal(3, t.Store.CopyValue("small", tiny));
        Assert.Equal(new byte[2], tiny); // nothing copied
    }
}
