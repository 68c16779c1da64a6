using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading;
using Memalloc.Core;

namespace Memalloc.TestHost;

/// <summary>
/// <c>history STORE --id P --seed S --ops N --keys K --at UNIXMS</c>: one process of the cross-process linearizability
/// campaign (tests/Memalloc.Core.Tests, CrossProcessHistoryTests). Opens the store (small arena: the campaign grows and
/// compacts it), says READY, waits for the common start time, then runs N random operations on K keys: set, compare-
/// and-set with the version it last saw, create-only, remove, get. Each is logged as
/// <c>OP id index kind key argument start end result</c>, start and end read from the monotonic clock every process
/// shares (Stopwatch: CLOCK_MONOTONIC in nanoseconds on Linux), so that the checker knows which operations overlapped.
/// Values are unique (<c>P.index</c>): a read names the write it saw.
/// </summary>
internal static class History
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    internal static int Run(string[] args)
    {
        var store = args[1];
        var id = Option(args, "--id", 0);
        var random = new Random(Option(args, "--seed", id));
        var count = Option(args, "--ops", 100);
        var keys = Option(args, "--keys", 4);
        var startAt = Option(args, "--at", 0L);
        using var memStore = MemStore.Open(store, new MemStoreOptions { InitialCapacity = 32 * 1024, MaxCapacity = 8L << 20 });
        Say("READY");
        var wait = startAt - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (wait > 0)
        {
            Thread.Sleep((int)wait);
        }

        var seen = new Dictionary<string, long>();
        for (var i = 0; i < count; i++)
        {
            var key = "k" + random.Next(keys).ToString(s_inv);
            var value = $"{id}.{i}";
            var bytes = Padded(value, random.Next(8, 2400));
            var kind = random.Next(10) switch
            {
                < 3 => "set",
                < 5 => "cas",
                5 => "create",
                6 => "remove",
                _ => "get",
            };
            var expected = seen.GetValueOrDefault(key, 1);
            var argument = kind switch { "set" or "create" => value, "cas" => value + "@" + expected.ToString(s_inv), _ => "-" };
            var start = Stopwatch.GetTimestamp();
            string result;
            switch (kind)
            {
                case "set":
                    var version = memStore.Set(key, bytes);
                    result = version.ToString(s_inv);
                    seen[key] = version;
                    break;
                case "cas":
                case "create":
                    var options = new WriteOptions { ExpectedVersion = kind == "cas" ? expected : WriteOptions.MustNotExist };
                    result = memStore.TrySet(key, bytes, options, out var written) ? "ok " + written.ToString(s_inv) : "fail";
                    if (written > 0)
                    {
                        seen[key] = written;
                    }

                    break;
                case "remove":
                    result = memStore.Remove(key) ? "True" : "False";
                    break;
                default:
                    result = memStore.TryGet(key, out var entry) ? $"{Unpad(entry!.Data)} {entry.Info.Version.ToString(s_inv)}" : "none";
                    if (entry is not null)
                    {
                        seen[key] = entry.Info.Version;
                    }

                    break;
            }

            var end = Stopwatch.GetTimestamp();
            Say($"OP {id} {i} {kind} {key} {argument} {start} {end} {result}");
        }

        Say("DONE");
        return 0;
    }

    /// <summary>The value's name, padded to a random size so that writes fill, grow and compact the small arena.</summary>
    private static byte[] Padded(string value, int size)
    {
        var bytes = new byte[Math.Max(size, value.Length + 1)];
        Encoding.ASCII.GetBytes(value, bytes);
        return bytes;
    }

    private static string Unpad(byte[] data)
    {
        var end = Array.IndexOf(data, (byte)0);
        return Encoding.ASCII.GetString(data, 0, end < 0 ? data.Length : end);
    }

    private static void Say(string line) => Console.Out.WriteLine(line + " .");

    private static T Option<T>(string[] args, string name, T fallback)
        where T : IParsable<T>
    {
        var at = Array.IndexOf(args, name);
        return at > 0 && at + 1 < args.Length ? T.Parse(args[at + 1], s_inv) : fallback;
    }
}
