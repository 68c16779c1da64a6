using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace Memalloc.Core.Tests;

/// <summary>
/// The base of the test classes that start child processes (tests/Memalloc.TestHost through <see cref="TestHostProcess"/>):
/// the output the children's transcripts go to, and the inspection of a damaged store in a child, where a crash is an
/// exit code rather than a dead test runner. The shared helpers without state are in <see cref="ProcessTestSupport"/>.
/// Each class still names <see cref="ChildProcessCollection"/> itself, so that xunit runs them one at a time.
/// </summary>
public abstract class ChildProcessTests
{
    private protected ChildProcessTests(ITestOutputHelper output)
    {
        Output = output;
    }

    private protected ITestOutputHelper Output { get; }

    /// <summary>Opens, verifies and reads <paramref name="storeName"/> ("inspect": <paramref name="names"/> stacks n0, n1...)
    /// in a child, shows its transcript and returns its lines; fails the test when the child crashed.</summary>
    private protected List<string> Inspect(string storeName, int names, TimeSpan timeout, params string[] extra)
    {
        using var host = TestHostProcess.Run(timeout, ["inspect", storeName, "--names", names.ToString(CultureInfo.InvariantCulture), .. extra]);
        Output.WriteLine(host.Transcript(80));
        Assert.True(host.ExitCode == 0, $"inspecting the store ended with exit code {host.ExitCode} (a crash)\n{host.Transcript()}");
        return host.Lines.ToList();
    }
}
