using System;
using System.Text;
using Memalloc.Core;
using Xunit;

namespace Memalloc.Core.Tests;

public class BasicsTests
{
    [Fact]
    public void Set_then_get_returns_the_value()
    {
        using var t = new TestStore();
        var version = t.Store.Set("a", "hello"u8);
        Assert.True(version > 0);
        Assert.Equal("hello", Encoding.UTF8.GetString(t.Store.Get("a")!));
        Assert.Null(t.Store.Get("missing"));
        Assert.True(t.Store.Exists("a"));
        Assert.False(t.Store.Exists("missing"));
        Assert.True(t.Store.Verify().IsValid);
    }

    [Fact]
    public void Overwrite_keeps_created_and_increases_version()
    {
        using var t = new TestStore();
        var v1 = t.Store.Set("a", "1"u8);
        var created = t.Store.GetInfo("a")!.Created;
        System.Threading.Thread.Sleep(5);
        var v2 = t.Store.Set("a", "22"u8);
        Assert.True(v2 > v1);
        var info = t.Store.GetInfo("a")!;
        Assert.Equal(created, info.Created);
        Assert.True(info.Modified > created);
        Assert.Equal(2, info.Size);
        Assert.Equal(v2, info.Version);
        Assert.Equal(DateTimeKind.Utc, info.Created.Kind);
        Assert.Equal(t.StoreName, info.Store);
    }

    [Fact]
    public void Remove_and_versions()
    {
        using var t = new TestStore();
        var v1 = t.Store.Set("a", "1"u8);
        Assert.False(t.Store.Remove("a", v1 + 100));
        Assert.True(t.Store.Exists("a"));
        Assert.True(t.Store.Remove("a", v1));
        Assert.False(t.Store.Exists("a"));
        Assert.False(t.Store.Remove("a"));
        var v2 = t.Store.Set("a", "2"u8);
        Assert.True(v2 > v1, "versions are never reused, even across remove and re-create");
        Assert.True(t.Store.Verify().IsValid);
    }
}
