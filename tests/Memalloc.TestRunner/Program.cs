using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Threading;
using Memalloc.Core.Tests;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Memalloc.TestRunner;

/// <summary>
/// Discovers and runs the tests of Memalloc.Core.Tests with xunit's own framework (xunit.execution), in this process,
/// leaving out what cannot run here (<see cref="ExclusionReason"/>), and prints one line per failure and a summary
/// 'NAME: N passed, N failed, N skipped, N not run'. Exit code 0 only when nothing failed and something ran.
/// Usage: <c>Memalloc.TestRunner [--name NAME] [--list-excluded] [--class CLASS] [--with-child-processes]</c> (the last two
/// to show, under qemu, why the child-process tests are left out).
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var name = ArgumentAfter(args, "--name") ?? "xunit";
        var withChildProcesses = args.Contains("--with-child-processes");
        var only = ArgumentAfter(args, "--class");
        var assembly = typeof(LayoutTests).Assembly;
        using var framework = new XunitTestFramework(new NullMessageSink());
        using var discoverer = framework.GetDiscoverer(Reflector.Wrap(assembly));
        using var discovery = new DiscoverySink();
        discoverer.Find(includeSourceInformation: false, discovery, new Options());
        discovery.Finished.WaitOne();

        var included = new List<ITestCase>();
        var excluded = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var testCase in discovery.TestCases)
        {
            if (ExclusionReason(testCase, withChildProcesses) is { } reason)
            {
                (excluded.TryGetValue(reason, out var list) ? list : excluded[reason] = []).Add(testCase.DisplayName);
            }
            else if (only is null || testCase.TestMethod.TestClass.Class.Name.EndsWith("." + only, StringComparison.Ordinal))
            {
                included.Add(testCase);
            }
        }

        foreach (var (reason, tests) in excluded)
        {
            Console.WriteLine($"not run ({tests.Count}): {reason}");
            if (args.Contains("--list-excluded"))
            {
                tests.ForEach(t => Console.WriteLine("    " + t));
            }
        }

        using var executor = framework.GetExecutor(assembly.GetName());
        using var execution = new ExecutionSink();
        executor.RunTests(included, execution, new Options());
        execution.Finished.WaitOne();

        var notRun = excluded.Values.Sum(l => l.Count);
        Console.WriteLine($"{name}: {execution.Passed} passed, {execution.Failed} failed, {execution.Skipped} skipped, {notRun} not run");
        return execution.Failed == 0 && execution.Passed > 0 ? 0 : 1;
    }

    /// <summary>
    /// Why a test is left out, or null. Child-process tests start `dotnet Memalloc.TestHost` and judge other processes
    /// by /proc/&lt;pid&gt;/stat: under qemu-user a process reads an emulated start time about itself, another value
    /// than other processes read about it, so the lock word's start-time token of one process looks like a reused pid
    /// to another. Tests of kernel hints (Category=HostKernel) are left out too: qemu-user returns 0 from madvise
    /// without passing the advice on. Stress tests are left out of every quick run (as `-Task Test` does).
    /// </summary>
    private static string? ExclusionReason(ITestCase testCase, bool withChildProcesses)
    {
        if (testCase.Traits.TryGetValue("Category", out var categories) && categories.Contains("Stress"))
        {
            return "Category=Stress (the long campaigns, -Task Stress)";
        }

        if (!withChildProcesses && testCase.TestMethod.TestClass.TestCollection.DisplayName == ChildProcessCollectionName)
        {
            return "starts child processes: cross-process lock-owner checks read /proc/<pid>/stat, which qemu-user emulates for a process about itself";
        }

        if (testCase.Traits.TryGetValue("Category", out var kinds) && kinds.Contains(HostKernelCategory))
        {
            return "asks the kernel what it did with a hint (madvise): qemu-user accepts such hints without passing them on";
        }

        return null;
    }

    private const string ChildProcessCollectionName = "Memalloc child processes";

    /// <summary>The Category of tests that check what the host kernel recorded about our own calls (see HugePageAdviceTests).</summary>
    private const string HostKernelCategory = "HostKernel";

    private static string? ArgumentAfter(string[] args, string option)
    {
        var at = Array.IndexOf(args, option);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    /// <summary>Discovery and execution options: xunit's defaults, except that tests run one at a time (qemu is slow
    /// enough without competing threads, and a failure reads clearly).</summary>
    private sealed class Options : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
    {
        private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal)
        {
            ["xunit.execution.DisableParallelization"] = true,
            ["xunit.discovery.PreEnumerateTheories"] = true,
        };

        public TValue GetValue<TValue>(string name) => _values.TryGetValue(name, out var value) && value is TValue typed ? typed : default!;

        public void SetValue<TValue>(string name, TValue value) => _values[name] = value;
    }

    private sealed class DiscoverySink : IMessageSink, IDisposable
    {
        internal List<ITestCase> TestCases { get; } = [];

        internal ManualResetEvent Finished { get; } = new(false);

        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is ITestCaseDiscoveryMessage discovered)
            {
                TestCases.Add(discovered.TestCase);
            }
            else if (message is IDiscoveryCompleteMessage)
            {
                Finished.Set();
            }

            return true;
        }

        public void Dispose() => Finished.Dispose();
    }

    private sealed class ExecutionSink : IMessageSink, IDisposable
    {
        internal int Passed { get; private set; }

        internal int Failed { get; private set; }

        internal int Skipped { get; private set; }

        internal ManualResetEvent Finished { get; } = new(false);

        public bool OnMessage(IMessageSinkMessage message)
        {
            switch (message)
            {
                case ITestPassed:
                    Passed++;
                    break;
                case ITestFailed failed:
                    Failed++;
                    Console.WriteLine($"FAIL {failed.Test.DisplayName}");
                    Console.WriteLine("    " + string.Join(Environment.NewLine + "    ", failed.Messages));
                    Console.WriteLine("    " + string.Join(Environment.NewLine + "    ", failed.StackTraces).Replace("\n", "\n    ", StringComparison.Ordinal));
                    break;
                case ITestSkipped skipped:
                    Skipped++;
                    Console.WriteLine($"skip {skipped.Test.DisplayName}: {skipped.Reason}");
                    break;
                case IErrorMessage error:
                    Failed++;
                    Console.WriteLine("ERROR " + string.Join(Environment.NewLine, error.Messages));
                    break;
                case ITestAssemblyFinished:
                    Finished.Set();
                    break;
            }

            return true;
        }

        public void Dispose() => Finished.Dispose();
    }
}
