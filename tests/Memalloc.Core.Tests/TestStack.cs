using Memalloc.Core;

namespace Memalloc.Core.Tests;

/// <summary>A stack as the snapshot tests describe it.</summary>
internal sealed record TestStack(string Name, byte[] Value, string? TypeName = null, ValueEncoding Encoding = ValueEncoding.CliXml,
    long CreatedMs = 1_700_000_000_000, long ModifiedMs = 1_700_000_000_500, long ExpiresMs = 0);

/// <summary>A queue as the snapshot tests describe it: its items oldest first.</summary>
internal sealed record TestQueue(string Name, TestItem[] Items, long CreatedMs = 1_700_000_000_000, long ModifiedMs = 1_700_000_000_700);

/// <summary>One item of a <see cref="TestQueue"/>.</summary>
internal sealed record TestItem(string? TypeName, byte[] Value);
