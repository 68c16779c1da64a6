using System;
using System.Collections.Generic;

namespace Memalloc.Core;

/// <summary>The order every backend lists names in: UTF-8 byte order (code point order), the order of the shared-memory
/// store's index. In UTF-16 a surrogate pair sorts above U+E000..U+FFFF, so those two ranges are swapped before
/// comparing.</summary>
public sealed class StackNameOrder : IComparer<string>
{
    public static readonly StackNameOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        var length = Math.Min(x.Length, y.Length);
        for (var i = 0; i < length; i++)
        {
            if (x[i] != y[i])
            {
                return CodePointOrder(x[i]) - CodePointOrder(y[i]);
            }
        }

        return x.Length - y.Length;
    }

    private static int CodePointOrder(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;
}
