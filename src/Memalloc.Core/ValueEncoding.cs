namespace Memalloc.Core;

/// <summary>How a stored value's bytes are to be read.</summary>
public enum ValueEncoding : byte
{
    /// <summary>Opaque bytes from a .NET caller.</summary>
    Raw = 0,
    /// <summary>UTF-8 CliXml text written by the cmdlets (PSSerializer).</summary>
    CliXml = 1,
}
