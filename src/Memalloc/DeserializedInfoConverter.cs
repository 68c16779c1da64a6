using System;
using System.Management.Automation;

namespace Memalloc;

/// <summary>
/// Turns a MemStoreInfo or MemStackInfo that went through CliXml (Start-Job, Invoke-Command, Import-Clixml: a property
/// bag named 'Deserialized.Memalloc.MemStoreInfo') back into the object the stack cmdlets bind from the pipeline, so
/// that such a store object is still taken for a store (never its Name for a stack's) and such a stack object still
/// names its stack literally. Nothing else converts.
/// </summary>
public sealed class DeserializedInfoConverter : PSTypeConverter
{
    public override bool CanConvertFrom(object sourceValue, Type destinationType) =>
        sourceValue is PSObject psObject && psObject.TypeNames.Contains("Deserialized." + destinationType.FullName);

    public override object ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase)
    {
        var psObject = (PSObject)sourceValue;
        string Text(string property) => psObject.Properties[property]?.Value?.ToString()
            ?? throw new PSInvalidCastException($"A deserialised {destinationType.Name} without a {property} cannot be converted.");

        if (destinationType == typeof(MemStackInfo))
        {
            return new MemStackInfo { Name = Text(nameof(MemStackInfo.Name)), Store = Text(nameof(MemStackInfo.Store)) };
        }

        if (destinationType == typeof(MemStoreInfo))
        {
            return MemStoreInfo.Named(Text(nameof(MemStoreInfo.Name)),
                LanguagePrimitives.IsTrue(psObject.Properties[nameof(MemStoreInfo.Orphaned)]?.Value));
        }

        throw new PSInvalidCastException($"Cannot convert to {destinationType.FullName}.");
    }

    public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

    public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
        throw new PSInvalidCastException($"Cannot convert to {destinationType.FullName}.");
}
