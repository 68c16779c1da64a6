using System;
using System.IO.Hashing;
using System.Text;
using System.Text.Unicode;

namespace Memalloc.Core;

/// <summary>
/// The rule for stack names and their bytes in the store: 1 to <see cref="Layout.MaxNameBytes"/> bytes of UTF-8, no
/// control characters, no lone surrogates; compared byte for byte (case-sensitive). The index finds a name by the
/// XxHash3 of those bytes.
/// </summary>
internal static class StackName
{
    /// <summary>Checks a stack name and encodes it to UTF-8 into <paramref name="buffer"/> (255 bytes); returns the length.
    /// Throws <see cref="MemStoreErrorKind.InvalidName"/>.</summary>
    internal static int Encode(string name, Span<byte> buffer)
    {
        if (name is null)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidName, "A stack name is required; it was null.");
        }

        if (name.Length == 0)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidName, "A stack name must not be empty.");
        }

        // Fast path, one pass: printable ASCII is valid and is its own UTF-8.
        if (name.Length <= buffer.Length)
        {
            var ascii = 0;
            for (; ascii < name.Length; ascii++)
            {
                var c = name[ascii];
                if (c < 0x20 || c >= 0x7F)
                {
                    break;
                }

                buffer[ascii] = (byte)c;
            }

            if (ascii == name.Length)
            {
                return ascii;
            }
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsControl(c))
            {
                throw new MemStoreException(MemStoreErrorKind.InvalidName,
                    $"Stack name '{Printable(name)}' contains the control character U+{(int)c:X4} at position {i}; names must not contain control characters.");
            }

            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                throw new MemStoreException(MemStoreErrorKind.InvalidName,
                    $"Stack name '{Printable(name)}' contains a lone surrogate U+{(int)c:X4} at position {i}; names must be valid Unicode text.");
            }
        }

        var status = Utf8.FromUtf16(name, buffer, out _, out var written, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done)
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidName,
                $"Stack name '{(name.Length > 40 ? name[..40] + "..." : name)}' is {Encoding.UTF8.GetByteCount(name)} UTF-8 bytes long; the limit is {Layout.MaxNameBytes}.");
        }

        return written;
    }

    /// <summary>The index hash of a stack name (checked and encoded first).</summary>
    internal static ulong Hash(string name)
    {
        Span<byte> nameBytes = stackalloc byte[Layout.MaxNameBytes];
        return XxHash3.HashToUInt64(nameBytes[..Encode(name, nameBytes)]);
    }

    private static string Printable(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsControl(c) || char.IsSurrogate(c) ? '?' : c);
        }

        return builder.ToString();
    }
}
