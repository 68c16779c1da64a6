using System.Collections.Generic;

namespace Memalloc.Commands;

/// <summary>The stacks one pipeline record selects: names (all of the store when null) in a store.</summary>
internal readonly record struct StackSelection(string Store, IReadOnlyList<string>? Names, bool Patterns);
