using System;

namespace Memalloc.Core;

/// <summary>
/// Fault injection for the crash tests: the test host sets <see cref="Hit"/> to kill its own process at a named
/// step of the write, removal or growth protocol (names listed in docs/store-design.md). Null in production,
/// so each point costs one static load.
/// </summary>
internal static class CrashPoints
{
    internal static Action<string>? Hit { get; set; }
}
