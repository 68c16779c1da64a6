using System;
using System.ComponentModel;
using Memalloc.Core;

namespace Memalloc;

/// <summary>
/// What Get-MemStackInfo (and Set-MemStack -PassThru) emit about one stack. Times are local DateTime values
/// (Kind Local, as Get-Date gives), converted from the UTC times the store keeps.
/// </summary>
[TypeConverter(typeof(DeserializedInfoConverter))]
public sealed class MemStackInfo
{
    /// <summary>Only the module makes these: without a public constructor PowerShell cannot turn any object with a
    /// Name property into one, so only real ones (or deserialised ones, through <see cref="DeserializedInfoConverter"/>)
    /// bind to the stack cmdlets' -InputObject and -InputStore.</summary>
    internal MemStackInfo()
    {
    }

    // One property per property of the core's StackInfo, with its meaning (tests/MemStackInfo.Tests.ps1 fails when one
    // is missing), except Encoding: the cmdlets write CliXml and read either encoding (docs/store-format.md, "Encodings").

    /// <inheritdoc cref="StackInfo.Name"/>
    public required string Name { get; init; }

    /// <inheritdoc cref="StackInfo.Store"/>
    public required string Store { get; init; }

    /// <inheritdoc cref="StackInfo.Size"/>
    public long Size { get; init; }

    /// <inheritdoc cref="StackInfo.TypeName"/>
    public string? TypeName { get; init; }

    /// <summary>The first write of the stack (kept across overwrites): <see cref="StackInfo.Created"/> as local time.</summary>
    public DateTime Created { get; init; }

    /// <summary>The last write: <see cref="StackInfo.Modified"/> as local time.</summary>
    public DateTime Modified { get; init; }

    /// <summary>When the stack disappears, null when it never expires: <see cref="StackInfo.Expires"/> as local time.</summary>
    public DateTime? Expires { get; init; }

    /// <inheritdoc cref="StackInfo.Version"/>
    public long Version { get; init; }

    /// <inheritdoc cref="StackInfo.Kind"/>
    public StackKind Kind { get; init; }

    /// <inheritdoc cref="StackInfo.Count"/>
    public long Count { get; init; }

    internal static MemStackInfo FromCore(StackInfo info) => new()
    {
        Name = info.Name,
        Store = info.Store,
        Size = info.Size,
        TypeName = info.TypeName,
        Created = ToLocal(info.Created),
        Modified = ToLocal(info.Modified),
        Expires = info.Expires is { } expires ? ToLocal(expires) : null,
        Version = info.Version,
        Kind = info.Kind,
        Count = info.Count,
    };

    private static DateTime ToLocal(DateTime utc) => DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToLocalTime();

    public override string ToString() => Name;
}
