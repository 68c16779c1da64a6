using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Memalloc.Core;
using SharpFuzz;

namespace Memalloc.Fuzz;

/// <summary>
/// The fuzzer's entry point. Every line it prints ends in " ." (the test host protocol).
/// <list type="bullet">
/// <item>no arguments: under afl-fuzz, one execution per input through SharpFuzz's out-of-process runner (a child
/// .NET process runs inputs in a loop and is restarted when one kills it); store name <c>fuzz</c>, so run it in
/// an IPC namespace of its own (<c>unshare --ipc</c>).</item>
/// <item><c>seeds DIR</c>: writes the seed corpus.</item>
/// <item><c>replay [--store NAME] [--mutations N] [--seed S] PATH...</c>: runs every input file (or every file of a
/// directory) and N deterministic mutants of each; prints FINDING for each input that broke the property (the mutant is
/// saved in the temp directory's per-user findings folder), then SUMMARY with the counts and executions per second. Exit code 1
/// when anything was found.</item>
/// <item><c>describe FILE</c>: the decoded store an input lays out (shape, flags, anchor and arena header fields), for triage.</item>
/// </list>
/// </summary>
internal static class Program
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    private static int Main(string[] args)
    {
        var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true, NewLine = "\n" };
        Console.SetOut(stdout);
        if (args.Length == 0)
        {
            var harness = new Lazy<FuzzHarness>(() => new FuzzHarness("fuzz"));
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var memory = new MemoryStream();
                stream.CopyTo(memory);
                harness.Value.Run(memory.ToArray());
            });
            return 0;
        }

        return args[0] switch
        {
            "seeds" => WriteSeeds(args[1]),
            "replay" => Replay(args[1..]),
            "describe" => Describe(args[1]),
            _ => Usage(),
        };
    }

    private static int Usage()
    {
        Console.WriteLine("ERROR usage: (no arguments, under afl-fuzz) | seeds DIR | replay [--store NAME] [--mutations N] [--seed S] PATH... .");
        return 2;
    }

    private static int WriteSeeds(string directory)
    {
        Directory.CreateDirectory(directory);
        var harness = new FuzzHarness("fz-seeds-" + Environment.ProcessId.ToString(s_inv));
        foreach (var (name, input) in harness.Seeds())
        {
            File.WriteAllBytes(Path.Combine(directory, name + ".bin"), input);
            Console.WriteLine($"SEED {name} {input.Length} .");
        }

        return 0;
    }

    private static int Describe(string file)
    {
        var harness = new FuzzHarness("fz-describe-" + Environment.ProcessId.ToString(s_inv));
        var fuzzCase = FuzzCase.Decode(harness.Shapes, File.ReadAllBytes(file));
        string Fields(byte[] segment, params (string Name, int Offset)[] fields) =>
            string.Join(" ", fields.Select(f => $"{f.Name}={BitConverter.ToInt64(segment, f.Offset)}"));
        Console.WriteLine($"SHAPE {fuzzCase.Shape.Name} flags {fuzzCase.Flags} .");
        Console.WriteLine("ANCHOR " + Fields(fuzzCase.Anchor, ("magic", Layout.AnchorMagicOffset), ("maxCapacity", Layout.AnchorMaxCapacityOffset),
            ("lockWord", Layout.LockWordOffset), ("state", Layout.WriterStateOffset), ("pendingKey|Shm", Layout.PendingKeyOffset),
            ("arenaRef", Layout.ArenaRefOffset), ("spareRef", Layout.SpareRefOffset)) + " .");
        Console.WriteLine("ARENA " + Fields(fuzzCase.Arena, ("generation|key", Layout.ArenaGenerationOffset), ("capacity", Layout.ArenaCapacityOffset),
            ("slotCount", Layout.ArenaSlotCountOffset), ("heapOffset", Layout.ArenaHeapOffsetOffset), ("sequence", Layout.ArenaSequenceOffset),
            ("bump", Layout.ArenaBumpOffset), ("entries", Layout.ArenaEntriesOffset)) + $" segment {fuzzCase.Arena.Length} .");
        return 0;
    }

    private static int Replay(string[] args)
    {
        var store = "fz-replay-" + Environment.ProcessId.ToString(s_inv);
        var mutations = 0;
        var seed = 9;
        var paths = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--store": store = args[++i]; break;
                case "--mutations": mutations = int.Parse(args[++i], s_inv); break;
                case "--seed": seed = int.Parse(args[++i], s_inv); break;
                default: paths.Add(args[i]); break;
            }
        }

        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]).ToList();
        var harness = new FuzzHarness(store);
        var mutator = new Mutator(seed);
        // One folder per user: /tmp is shared, and a folder another user made first would refuse our writes.
        var findingsDir = Path.Combine(Path.GetTempPath(), "memalloc-fuzz-findings-" + Environment.UserName);
        var executions = 0;
        var findings = 0;
        var clock = Stopwatch.StartNew();
        foreach (var file in files)
        {
            var input = File.ReadAllBytes(file);
            for (var m = 0; m <= mutations; m++)
            {
                var candidate = m == 0 ? input : mutator.Mutate(input);
                var label = m == 0 ? Path.GetFileName(file) : $"{Path.GetFileName(file)}#{m}";
                if (m > 0)
                {
                    // Saved before it runs: if it kills the process, the file is the reproducer.
                    Directory.CreateDirectory(findingsDir);
                    File.WriteAllBytes(Path.Combine(findingsDir, "last-mutant.bin"), candidate);
                }

                Console.WriteLine($"RUN {label} .");
                executions++;
                try
                {
                    harness.Run(candidate);
                }
#pragma warning disable CA1031 // the property is "nothing but MemStoreException": every other exception is the finding
                catch (Exception e)
#pragma warning restore CA1031
                {
                    findings++;
                    var saved = Path.Combine(findingsDir, $"{Path.GetFileNameWithoutExtension(file)}-{m}.bin");
                    Directory.CreateDirectory(findingsDir);
                    File.WriteAllBytes(saved, candidate);
                    Console.WriteLine($"FINDING {label} {e.GetType().FullName}: {e.Message.ReplaceLineEndings(" ")} (saved as {saved}) .");
                    Console.WriteLine($"STACK {string.Join(" <- ", (e.StackTrace ?? "").Split('\n', StringSplitOptions.TrimEntries).Take(6))} .");
                }
            }
        }

        var rate = executions / Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
        var refusals = string.Join(",", harness.Refusals.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"));
        Console.WriteLine($"SUMMARY executions {executions} findings {findings} per-second {rate.ToString("0", s_inv)} opened {harness.Opened} verify-failures {harness.VerifyFailures} refusals {refusals} .");
        return findings == 0 ? 0 : 1;
    }
}
