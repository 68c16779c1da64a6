using System;
using System.Buffers;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Security;
using System.Text;
using System.Xml;
using Memalloc.Core;

namespace Memalloc;

/// <summary>
/// Values go through PowerShell's own CliXml (PSSerializer), so what comes back is what Import-Clixml gives:
/// primitives, strings, DateTime, hashtables (ordered ones ordered), arrays as lists, other objects as
/// 'Deserialized.' property bags, script blocks as strings (never code).
/// </summary>
internal static class CliXmlCodec
{
    /// <summary>As Export-Clixml (never PSSerializer's own default of 1).</summary>
    public const int DefaultDepth = 2;

    public const int MaxDepth = 100;

    // The depth probe gives up (and claims nothing) past this many objects, so it stays cheap next to serialising.
    private const int ProbeBudget = 4096;

    /// <summary>Serialises, encoding the text into a pooled array (no large-object allocation for a large value beyond
    /// the text PSSerializer returns); exceptions from PSSerializer (an object it cannot write) propagate to the caller.</summary>
    public static SerializedValue Serialize(object? value, int depth)
    {
        var xml = PSSerializer.Serialize(value, depth);
        var length = Encoding.UTF8.GetByteCount(xml);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        Encoding.UTF8.GetBytes(xml, buffer);
        return new SerializedValue(buffer, length)
        {
            TypeName = RootTypeName(value),
            // CliXml escapes '<' in text, so an <SS> tag can only be a serialised SecureString.
            ContainsSecureString = buffer.AsSpan(0, length).IndexOf("<SS"u8) >= 0,
            DepthTruncated = new DepthProbe().IsTruncated(value, depth),
        };
    }

    /// <summary>Reads a value. CliXml comes back as PSSerializer.Deserialize gives it; raw bytes written by a .NET
    /// caller come back as a byte array.</summary>
    public static object? Deserialize(ReadOnlySpan<byte> data, ValueEncoding encoding) =>
        encoding == ValueEncoding.Raw ? data.ToArray() : PSSerializer.Deserialize(Encoding.UTF8.GetString(data));

    /// <summary>Reads what a stack holds (<paramref name="data"/>, read with <paramref name="info"/>), as above, the text
    /// of an unchanged large value decoded once (<see cref="DecodedTextCache"/>).</summary>
    public static object? Deserialize(ReadOnlySpan<byte> data, StackInfo info) =>
        info.Encoding == ValueEncoding.Raw ? data.ToArray() : PSSerializer.Deserialize(DecodedTextCache.GetText(info, data));

    /// <summary>A value collected from the pipeline: one object as itself, several as an array (as Set-Variable).</summary>
    public static object? FromCollected(IReadOnlyList<object?> items) => items.Count switch
    {
        0 => null,
        1 => items[0],
        _ => ToArray(items),
    };

    public static string? RootTypeName(object? value) => value switch
    {
        null => null,
        PSObject psObject when psObject.TypeNames.Count > 0 => psObject.TypeNames[0],
        PSObject psObject => psObject.BaseObject.GetType().FullName,
        _ => value.GetType().FullName,
    };

    private static object?[] ToArray(IReadOnlyList<object?> items)
    {
        var array = new object?[items.Count];
        for (var i = 0; i < array.Length; i++)
        {
            array[i] = items[i];
        }

        return array;
    }

    /// <summary>
    /// Mirrors where PSSerializer spends depth, to tell whether it cut something off: containers (lists,
    /// dictionaries) and a PSObject's own note properties keep the depth; a .NET object's adapted properties
    /// cost one level; a .NET object reached with no depth left is written as its ToString() text.
    /// Best effort: types.ps1xml serialisation settings are not modelled and a large graph stops the probe.
    /// </summary>
    private sealed class DepthProbe
    {
        private readonly HashSet<object> _seen = new(ReferenceEqualityComparer.Instance);
        private int _budget = ProbeBudget;

        public bool IsTruncated(object? value, int depth)
        {
            try
            {
                return Visit(value, depth);
            }
            catch (Exception e) when (e is not OutOfMemoryException and not StackOverflowException)
            {
                // A property getter or enumerator failed: the serialiser copes; the probe claims nothing.
                return false;
            }
        }

        private bool Visit(object? value, int depth)
        {
            if (value is null || --_budget < 0)
            {
                return false;
            }

            var psObject = value as PSObject;
            var baseObject = psObject?.BaseObject ?? value;
            if (IsKnownLeaf(baseObject) || !_seen.Add(baseObject))
            {
                return false;
            }

            if (baseObject is IDictionary dictionary)
            {
                foreach (DictionaryEntry entry in dictionary)
                {
                    if (Visit(entry.Key, depth) || Visit(entry.Value, depth))
                    {
                        return true;
                    }
                }

                return false;
            }

            if (baseObject is IEnumerable enumerable)
            {
                foreach (var item in enumerable)
                {
                    if (Visit(item, depth))
                    {
                        return true;
                    }
                }

                return false;
            }

            psObject ??= PSObject.AsPSObject(value);
            if (baseObject is PSCustomObject)
            {
                foreach (var property in psObject.Properties)
                {
                    if (Visit(property.Value, depth))
                    {
                        return true;
                    }
                }

                return false;
            }

            if (depth <= 0)
            {
                return true;
            }

            foreach (var property in psObject.Properties)
            {
                object? propertyValue;
                try
                {
                    propertyValue = property.Value;
                }
                catch (GetValueException)
                {
                    continue;
                }

                if (Visit(propertyValue, depth - 1))
                {
                    return true;
                }
            }

            return false;
        }

        // The types CliXml writes as one element whatever the depth.
        private static bool IsKnownLeaf(object value) =>
            value is string or char or bool or byte or sbyte or short or ushort or int or uint or long or ulong
                or float or double or decimal or DateTime or TimeSpan or Guid or Uri or Version or byte[]
                or XmlDocument or ScriptBlock or SecureString or Enum or System.Numerics.BigInteger;
    }
}
