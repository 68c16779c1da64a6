using System;
using System.Collections.Generic;
using System.Management.Automation;
using Memalloc.Core;

namespace Memalloc.Commands;

/// <summary>The base of the stack cmdlets: the -Store parameter and stack-level helpers.</summary>
public abstract class MemStackCommandBase : MemallocCmdlet
{
    public const string DefaultStore = "default";

    /// <summary>The store holding the stacks; the current user's store of that name. Readers take it from
    /// the pipeline by property name too, so that Get-MemStackInfo -Store s | Remove-MemStack stays in store s.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [ValidateNotNullOrEmpty]
    public virtual string Store { get; set; } = DefaultStore;

    /// <summary>The shortest time to live: the store keeps times in milliseconds, and the expiry is counted from the
    /// write's own clock reading, so any time to live this long is accepted on every run (and anything shorter on none).</summary>
    private protected static readonly TimeSpan s_minTimeToLive = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest time to live: a fixed bound (not "before the year 10000", which would depend on today).</summary>
    private protected static readonly TimeSpan s_maxTimeToLive = TimeSpan.FromDays(1000 * 365.25);

    /// <summary>A -TimeToLive outside [1 ms, 1000 years] is a terminating InvalidTimeToLive, whatever the clock says.</summary>
    private protected void ValidateTimeToLive(TimeSpan? timeToLive)
    {
        if (timeToLive is { } value && (value < s_minTimeToLive || value > s_maxTimeToLive))
        {
            ThrowTerminatingError(MemallocErrors.InvalidTimeToLive(value, s_minTimeToLive, s_maxTimeToLive));
        }
    }

    /// <summary>Warnings a write owes the user, from what the codec saw.</summary>
    private protected void WarnAbout(SerializedValue serialized, string name, int depth)
    {
        if (serialized.ContainsSecureString)
        {
            var where = Registration.StoreNames.IsRedis(Store)
                ? "on the Redis server, readable by anyone who can read the store's keys there"
                : "in shared memory, readable by any process of this user";
            WriteWarning($"Stack '{name}' holds a SecureString or PSCredential: on Linux and macOS CliXml stores "
                + $"its text unencrypted (as hex) {where}.");
        }

        if (serialized.DepthTruncated)
        {
            WriteWarning($"Stack '{name}': objects deeper than -Depth {depth} were stored as their ToString() text; "
                + "raise -Depth to keep them.");
        }
    }

    /// <summary>
    /// The options of every write the cmdlets make: CliXml with the root object's type name; a time to live counted by
    /// the store from the moment the write commits (not from this call), or without one the expiry to keep
    /// (<paramref name="keptExpiry"/>: if it passes before the write commits, a compare-and-set fails and the caller reads
    /// again); and the version the write expects (compare-and-set), <see cref="WriteOptions.MustNotExist"/>, or null.
    /// </summary>
    private protected static WriteOptions CliXmlWrite(SerializedValue serialized, TimeSpan? timeToLive, long? expectedVersion, DateTime? keptExpiry = null) => new()
    {
        Encoding = ValueEncoding.CliXml,
        TypeName = serialized.TypeName,
        TimeToLive = timeToLive,
        Expires = timeToLive is null ? keptExpiry : null,
        ExpectedVersion = expectedVersion,
    };

    /// <summary>A stack's entry, its value in a pooled array (dispose it), or null when the stack (or its store) does not exist.</summary>
    private protected static RentedStackEntry? ReadEntry(string storeName, string name)
    {
        return TryRead(storeName, store => store.TryGetRented(name, out var entry) ? entry : null, out var found) ? found : null;
    }

    /// <summary>Turns an entry into the value it holds; a value that cannot be read is a non-terminating error.</summary>
    private protected bool TryDeserialize(RentedStackEntry entry, out object? value)
    {
        try
        {
            value = CliXmlCodec.Deserialize(entry.Data, entry.Info);
            return true;
        }
        catch (Exception e) when (e is not PipelineStoppedException and not OutOfMemoryException
                                      and not StackOverflowException)
        {
            // Whatever the deserialiser throws (XmlException, a type converter's error...) is about this one value.
            WriteError(MemallocErrors.DeserializationFailed(entry.Info.Name, e));
            value = null;
            return false;
        }
    }

    /// <summary>Serialises a value for writing; null (after a SerializationFailed error) when it cannot be.</summary>
    private protected SerializedValue? TrySerialize(string name, object? value, int depth)
    {
        try
        {
            return CliXmlCodec.Serialize(value, depth);
        }
        catch (Exception e) when (e is not PipelineStoppedException and not OutOfMemoryException
                                      and not StackOverflowException)
        {
            WriteError(MemallocErrors.SerializationFailed(name, e));
            return null;
        }
    }
}
