using System;
using System.Management.Automation;
using System.Net;
using System.Security;
using System.Security.Cryptography;
using Memalloc.Core;
using Memalloc.Registration;

namespace Memalloc.Commands;

/// <summary>
/// Records, for the current user, that a store lives on a Redis server: from then on every cmdlet's -Store of that name
/// works on Redis (docs/redis-design.md). Checks the connection, the server's version and Lua first, unless -Force. A
/// signing key is generated (and shown once) unless -SigningKey gives the one the store's other hosts use, or -Unsigned.
/// Registering a name again replaces its registration.
/// </summary>
[Cmdlet(VerbsLifecycle.Register, "MemStore", SupportsShouldProcess = true, DefaultParameterSetName = SignedSet)]
[OutputType(typeof(void))]
public sealed class RegisterMemStoreCommand : MemallocCmdlet
{
    public const string DefaultKeyPrefix = "memalloc:";
    private const string SignedSet = "Signed";
    private const string UnsignedSet = "Unsigned";
    private const int GeneratedKeyBytes = 32;
    private const int MinimumKeyBytes = 16;

    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(MemStoreNameCompleter))]
    [AllowEmptyString]
    public string Name { get; set; } = string.Empty;

    /// <summary>A StackExchange.Redis connection string: host:port[,host:port...][,ssl=true][,user=...][,password=...][,...].</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Redis { get; set; } = string.Empty;

    /// <summary>The ACL user (or just a password, with any user name, for requirepass) to connect as.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Prefix of every key of the store; no braces.</summary>
    [Parameter]
    [ValidateNotNull]
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>The store's signing key (base64), as another host's registration showed it.</summary>
    [Parameter(ParameterSetName = SignedSet)]
    public SecureString? SigningKey { get; set; }

    /// <summary>Neither sign nor check values: anyone who can write to the server can plant what the cmdlets deserialise.</summary>
    [Parameter(Mandatory = true, ParameterSetName = UnsignedSet)]
    public SwitchParameter Unsigned { get; set; }

    /// <summary>Registers without connecting to the server first.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        ValidateStoreName(Name);
        if (KeyPrefix.Contains('{', StringComparison.Ordinal) || KeyPrefix.Contains('}', StringComparison.Ordinal))
        {
            ThrowTerminatingError(MemallocErrors.InvalidKeyPrefix(KeyPrefix));
        }

        var generated = !Unsigned && SigningKey is null;
        var key = Unsigned ? null : generated ? RandomNumberGenerator.GetBytes(GeneratedKeyBytes) : ReadKey(SigningKey!);
        var registration = new StoreRegistration
        {
            Name = Name,
            Configuration = Redis,
            User = Credential is null || string.IsNullOrEmpty(Credential.UserName) || Credential.UserName == "default" ? null : Credential.UserName,
            Password = Credential?.GetNetworkCredential().Password,
            KeyPrefix = KeyPrefix,
            SigningKey = key is null ? null : Convert.ToBase64String(key),
            Registered = DateTime.UtcNow,
        };

        try
        {
            var backend = RedisBackendLoader.Backend;
            var settings = registration.ToSettings();
            var server = backend.DescribeServer(settings);
            if (!ShouldProcess($"Store '{Name}' on Redis {server}", "Register"))
            {
                return;
            }

            if (!Force)
            {
                WriteVerbose($"Checking {server}...");
                WriteVerbose(backend.Check(settings));
            }

            StoreRegistry.Save(registration);
            StoreCache.Forget(Name);
            WriteVerbose($"Store '{Name}' is registered on {server} (in {StoreRegistry.FilePath}).");
        }
        catch (MemStoreException e)
        {
            WriteStoreError(e, Name);
            return;
        }

        if (Unsigned)
        {
            WriteWarning($"Store '{Name}' is unsigned: values are read without checking who wrote them, and CliXml from anyone "
                + "who can write to the server is deserialised. Use it only on a server that only trusted clients reach.");
        }
        else if (generated)
        {
            ShowKey(Convert.ToBase64String(key!));
        }
    }

    private byte[] ReadKey(SecureString secure)
    {
        var text = new NetworkCredential(string.Empty, secure).Password;
        try
        {
            var bytes = Convert.FromBase64String(text.Trim());
            if (bytes.Length >= MinimumKeyBytes)
            {
                return bytes;
            }
        }
        catch (FormatException)
        {
            // Reported below, without the text.
        }

        ThrowTerminatingError(MemallocErrors.InvalidSigningKey());
        throw new InvalidOperationException(); // not reached
    }

    /// <summary>The generated key, once, on the host (as Write-Host: not in the output, whatever the preferences).</summary>
    private void ShowKey(string key)
    {
        var message = $"""
            Store '{Name}' signs its values with this key (shown only now; it is kept in {StoreRegistry.FilePath}):

                {key}

            To use the store from another host (or user), register it there with the same key:

                Register-MemStore -Name {Name} -Redis '<connection string>' -KeyPrefix '{KeyPrefix}' -SigningKey (Read-Host -AsSecureString)

            """;
        WriteInformation(new HostInformationMessage { Message = message }, ["PSHOST"]);
    }
}
