namespace Memalloc;

/// <summary>A value turned into what a stack stores: UTF-8 CliXml plus what the writer should warn about.</summary>
internal sealed class SerializedValue
{
    public required byte[] Data { get; init; }

    /// <summary>Type name of the root object (a PSObject's first type name), null for $null.</summary>
    public string? TypeName { get; init; }

    /// <summary>The CliXml holds a SecureString (alone or inside a PSCredential): on Unix it is only hex, not encrypted.</summary>
    public bool ContainsSecureString { get; init; }

    /// <summary>Some object sat deeper than -Depth and was written as its ToString() text.</summary>
    public bool DepthTruncated { get; init; }
}
