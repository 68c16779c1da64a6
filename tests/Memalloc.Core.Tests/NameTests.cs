using System;
using System.Linq;
using System.Text;
using Memalloc.Core;
using Xunit;

namespace Memalloc.Core.Tests;

public class NameTests
{
    [Fact]
    public void Names_of_255_utf8_bytes_work_and_256_do_not()
    {
        using var t = new TestStore();
        var ascii255 = new string('a', 255);
        t.Store.Set(ascii255, "x"u8);
        Assert.Equal("x"u8.ToArray(), t.Store.Get(ascii255));
        var ex = Assert.Throws<MemStoreException>(() => t.Store.Set(new string('a', 256), "x"u8));
        Assert.Equal(MemStoreErrorKind.InvalidName, ex.Kind);
        Assert.Contains("255", ex.Message, StringComparison.Ordinal);

        // Two-byte characters: 127 are 254 bytes (fine), 128 are 256 bytes (too long).
        var twoByte254 = new string('é', 127);
        t.Store.Set(twoByte254, "y"u8);
        Assert.True(t.Store.Exists(twoByte254));
        Assert.Equal(MemStoreErrorKind.InvalidName, Assert.Throws<MemStoreException>(() => MemStore.ValidateName(new string('é', 128))).Kind);

        // A surrogate pair is 4 UTF-8 bytes: 63 pairs + 3 ASCII = 255.
        var emoji = string.Concat(Enumerable.Repeat("😀", 63)) + "abc";
        Assert.Equal(255, Encoding.UTF8.GetByteCount(emoji));
        t.Store.Set(emoji, "z"u8);
        Assert.Equal("z"u8.ToArray(), t.Store.Get(emoji));
        Assert.Contains(emoji, t.Store.ListNames());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\nb")]
    [InlineData("tab\there")]
    [InlineData("\u0000")]
    [InlineData("del\u007f")]
    [InlineData("c1\u0085")]
    public void Invalid_names_are_rejected_with_InvalidName(string name)
    {
        var ex = Assert.Throws<MemStoreException>(() => MemStore.ValidateName(name));
        Assert.Equal(MemStoreErrorKind.InvalidName, ex.Kind);
        Assert.False(string.IsNullOrEmpty(ex.Message));
    }

    [Theory]
    [InlineData("lone", 0xD800, "")]
    [InlineData("", 0xDC00, "lone")]
    [InlineData("low-first", 0xDC00, "x")]
    [InlineData("end", 0xDBFF, "")]
    public void Lone_surrogates_are_rejected_with_InvalidName(string before, int surrogate, string after)
    {
        // Built here: xunit's test-case serialisation would turn a lone surrogate in attribute data into U+FFFD.
        var name = before + (char)surrogate + after;
        var ex = Assert.Throws<MemStoreException>(() => MemStore.ValidateName(name));
        Assert.Equal(MemStoreErrorKind.InvalidName, ex.Kind);
        Assert.Contains("surrogate", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_names_are_rejected_by_every_operation()
    {
        using var t = new TestStore();
        Assert.Equal(MemStoreErrorKind.InvalidName, Assert.Throws<MemStoreException>(() => t.Store.Get("a\u0001")).Kind);
        Assert.Equal(MemStoreErrorKind.InvalidName, Assert.Throws<MemStoreException>(() => t.Store.Set("\ud800", "x"u8)).Kind);
        Assert.Equal(MemStoreErrorKind.InvalidName, Assert.Throws<MemStoreException>(() => t.Store.Remove("")).Kind);
        Assert.Equal(MemStoreErrorKind.InvalidName, Assert.Throws<MemStoreException>(() => t.Store.Exists(null!)).Kind);
        Assert.Contains("control character", Assert.Throws<MemStoreException>(() => MemStore.ValidateName("a\nb")).Message, StringComparison.Ordinal);
        Assert.Contains("surrogate", Assert.Throws<MemStoreException>(() => MemStore.ValidateName("a\ud800")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_are_case_sensitive_and_listed_in_utf8_byte_order()
    {
        using var t = new TestStore();
        // UTF-16 order would put U+FF21 (Ａ) after U+1F600 (😀, a surrogate pair starting 0xD83D); UTF-8 order does not.
        string[] names = ["b", "B", "a", "Ａ", "😀", "ab", "é"];
        foreach (var name in names)
        {
            t.Store.Set(name, Encoding.UTF8.GetBytes(name));
        }

        Assert.Equal("b"u8.ToArray(), t.Store.Get("b"));
        Assert.Equal("B"u8.ToArray(), t.Store.Get("B"));
        string[] expected = ["B", "a", "ab", "b", "é", "Ａ", "😀"];
        Assert.Equal(expected, t.Store.ListNames());
        Assert.Equal(expected, t.Store.List().Select(i => i.Name).ToArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/")]
    [InlineData("ünicode")]
    [InlineData("x12345678901234567890123456789012345678901234567890123456789012345")]
    public void Invalid_store_names_are_rejected(string storeName)
    {
        Assert.Equal(MemStoreErrorKind.InvalidStoreName, Assert.Throws<MemStoreException>(() => MemStore.ValidateStoreName(storeName)).Kind);
        Assert.Equal(MemStoreErrorKind.InvalidStoreName, Assert.Throws<MemStoreException>(() => MemStore.Open(storeName)).Kind);
    }

    [Fact]
    public void Store_names_of_64_allowed_characters_are_valid()
    {
        MemStore.ValidateStoreName(new string('a', 64));
        MemStore.ValidateStoreName("Az09._-");
    }
}
