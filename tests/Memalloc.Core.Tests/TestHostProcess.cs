using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Memalloc.Core.Tests;

/// <summary>
/// One child process running tests/Memalloc.TestHost: collects its protocol lines (each ends in " ."; a line
/// cut short by SIGKILL lacks it and is dropped), waits for lines with a timeout, and kills it with SIGKILL
/// (<see cref="Process.Kill()"/> sends SIGKILL on Unix). Disposing kills it if it still runs.
/// </summary>
internal sealed class TestHostProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = new();
    private readonly List<string> _stderr = new();
    private readonly object _gate = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TestHostProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The host assembly, built by the test project's ProjectReference next to its own bin folder:
    /// tests/Memalloc.TestHost/bin/&lt;configuration&gt;/&lt;tfm&gt;/ (MEMALLOC_TESTHOST overrides).</summary>
    internal static string HostDll
    {
        get
        {
            var overridePath = Environment.GetEnvironmentVariable("MEMALLOC_TESTHOST");
            return string.IsNullOrEmpty(overridePath) ? BuiltBeside("Memalloc.TestHost") : overridePath;
        }
    }

    /// <summary>The tests/ folder of the checkout these tests were built from.</summary>
    internal static string TestsDirectory =>
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Parent!.Parent!.Parent!.FullName;

    /// <summary>The assembly of another project under tests/, built (by a ProjectReference) with the same configuration
    /// and target framework as the tests.</summary>
    internal static string BuiltBeside(string project)
    {
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(TestsDirectory, project, "bin", baseDir.Parent!.Name, baseDir.Name, project + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{project} was not built at {path}; build tests/{project}.", path);
        }

        return path;
    }

    private static readonly Lazy<string> s_nobodyHost = new(CopyHostForNobody);

    /// <summary>The host as another user can run it: a copy of its output folder under the temp directory with
    /// world-readable files, since the checkout may sit below a directory only root can enter (/root).</summary>
    internal static string HostDllForNobody => s_nobodyHost.Value;

    private static string CopyHostForNobody()
    {
        var source = Path.GetDirectoryName(HostDll)!;
        var target = Path.Combine(Path.GetTempPath(), "memalloc-testhost-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(destination, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
        }

        if (!OperatingSystem.IsWindows())
        {
            foreach (var directory in Directory.EnumerateDirectories(target, "*", SearchOption.AllDirectories).Append(target))
            {
                File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(target, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return Path.Combine(target, Path.GetFileName(HostDll));
    }

    internal int Id => _process.Id;

    internal bool HasExited => _process.HasExited;

    internal int ExitCode => _process.ExitCode;

    /// <summary>Starts the host with these arguments; <paramref name="asNobody"/> runs it through
    /// setpriv as nobody:nogroup with no supplementary groups.</summary>
    internal static TestHostProcess Start(IEnumerable<string> args, bool asNobody = false) =>
        StartCore(asNobody ? "setpriv" : "dotnet", args, asNobody, hostFirst: true);

    /// <summary>Starts any program (a shell wrapping the host, say) with the same line protocol on its stdout.</summary>
    internal static TestHostProcess StartCommand(string fileName, IEnumerable<string> args) =>
        StartCore(fileName, args, asNobody: false, hostFirst: false);

    private static TestHostProcess StartCore(string fileName, IEnumerable<string> args, bool asNobody, bool hostFirst)
    {
        var info = new ProcessStartInfo
        {
            FileName = fileName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asNobody)
        {
            foreach (var a in new[] { "--reuid=nobody", "--regid=nogroup", "--clear-groups", "dotnet" })
            {
                info.ArgumentList.Add(a);
            }

            info.Environment["HOME"] = Path.GetTempPath();
        }

        if (hostFirst)
        {
            info.ArgumentList.Add(asNobody ? HostDllForNobody : HostDll);
        }

        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        var process = new Process { StartInfo = info };
        var host = new TestHostProcess(process);
        process.OutputDataReceived += (_, e) => host.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                host._stderrClosed.TrySetResult();
                return;
            }

            lock (host._gate)
            {
                host._stderr.Add(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    internal static TestHostProcess Start(params string[] args) => Start((IEnumerable<string>)args);

    private void OnLine(string? line)
    {
        lock (_gate)
        {
            if (line is null)
            {
                _stdoutClosed.TrySetResult();
            }
            else if (line.EndsWith(" .", StringComparison.Ordinal))
            {
                _lines.Add(line[..^2]);
            }

            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Complete protocol lines so far, without the " ." terminator.</summary>
    internal IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return _lines.ToArray();
            }
        }
    }

    internal string Stderr
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _stderr);
            }
        }
    }

    /// <summary>Everything the host said, for assertion messages.</summary>
    internal string Transcript(int lastLines = 40)
    {
        lock (_gate)
        {
            return $"pid {SafeId()} {ExitText()}: ...\n{string.Join('\n', _lines.TakeLast(lastLines))}\nstderr:\n{string.Join('\n', _stderr.TakeLast(20))}";
        }
    }

    private string SafeId()
    {
        try
        {
            return _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }

    /// <summary>Waits for the first line (from <paramref name="startIndex"/>) matching the predicate; throws on timeout
    /// or when the host's output ends first.</summary>
    internal string WaitForLine(Func<string, bool> predicate, TimeSpan timeout, int startIndex = 0)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            var index = startIndex;
            while (true)
            {
                for (; index < _lines.Count; index++)
                {
                    if (predicate(_lines[index]))
                    {
                        return _lines[index];
                    }
                }

                if (_stdoutClosed.Task.IsCompleted)
                {
                    // Let its last words on stderr (an unhandled exception) arrive before reporting.
                    Monitor.Exit(_gate);
                    try
                    {
                        _stderrClosed.Task.Wait(TimeSpan.FromSeconds(5));
                    }
                    finally
                    {
                        Monitor.Enter(_gate);
                    }

                    throw new TimeoutException($"the host ended without the expected line\n{TranscriptLocked()}");
                }

                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException($"no expected line within {timeout.TotalSeconds:0.#} s\n{TranscriptLocked()}");
                }

                Monitor.Wait(_gate, left);
            }
        }
    }

    private string TranscriptLocked() =>
        $"{ExitText()}\n{string.Join('\n', _lines.TakeLast(40))}\nstderr:\n{string.Join('\n', _stderr.TakeLast(20))}";

    /// <summary>How the host ended, when it has: an exit code, or the signal that killed it (128 + n).</summary>
    private string ExitText()
    {
        try
        {
            // Output closed means it is ending: give the exit status a moment to be collected.
            if (!_process.HasExited && !(_stdoutClosed.Task.IsCompleted && _process.WaitForExit(5000)))
            {
                return "(running)";
            }

            var code = _process.ExitCode;
            return code > 128 && code < 160 ? $"(killed by signal {code - 128}, exit code {code})" : $"(exit code {code})";
        }
        catch (InvalidOperationException)
        {
            return "(not started)";
        }
    }

    internal string WaitForReady(TimeSpan? timeout = null) =>
        WaitForLine(l => l.StartsWith("READY", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal), timeout ?? TimeSpan.FromSeconds(30));

    internal int CountLines(string prefix)
    {
        lock (_gate)
        {
            return _lines.Count(l => l.StartsWith(prefix, StringComparison.Ordinal));
        }
    }

    /// <summary>SIGKILL, then waits until the process is gone and its output fully read.</summary>
    internal void KillHard()
    {
        try
        {
            _process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        WaitForExit(TimeSpan.FromSeconds(30));
    }

    /// <summary>Waits for exit and the end of its output; false on timeout.</summary>
    internal bool WaitForExit(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            _process.WaitForExitAsync(cts.Token).GetAwaiter().GetResult();
            _stdoutClosed.Task.Wait(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Runs the host to completion (killing it after <paramref name="timeout"/>) and returns it.</summary>
    internal static TestHostProcess Run(TimeSpan timeout, IEnumerable<string> args, bool asNobody = false)
    {
        var host = Start(args, asNobody);
        if (!host.WaitForExit(timeout))
        {
            host.KillHard();
            throw new TimeoutException($"the host did not finish within {timeout.TotalSeconds:0} s\n{host.Transcript()}");
        }

        return host;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }

        _process.Dispose();
    }
}
