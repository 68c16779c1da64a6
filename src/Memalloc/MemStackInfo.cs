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

    public required string Name { get; init; }
    public required string Store { get; init; }

    /// <summary>Bytes stored (the UTF-8 CliXml text).</summary>
    public long Size { get; init; }

    /// <summary>Type name of the stored root object; null for $null.</summary>
    public string? TypeName { get; init; }

    public DateTime Created { get; init; }
    public DateTime Modified { get; init; }

    /// <summary>When the stack disappears; null when it never expires.</summary>
    public DateTime? Expires { get; init; }

    /// <summary>Increases on every write of the stack.</summary>
    public long Version { get; init; }

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
    };

    private static DateTime ToLocal(DateTime utc) => DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToLocalTime();

    public override string ToString() => Name;
}
