using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Memalloc.Core.Tests.Model;

/// <summary>One logged operation of the cross-process campaign (tests/Memalloc.TestHost, History.cs).</summary>
internal sealed record HistoryOp(int Process, int Index, string Kind, string Key, string Argument, long Start, long End, string Result)
{
    internal static HistoryOp Parse(string line)
    {
        // OP id index kind key argument start end result...
        var f = line.Split(' ', 9);
        return new HistoryOp(int.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture), f[3], f[4], f[5],
            long.Parse(f[6], CultureInfo.InvariantCulture), long.Parse(f[7], CultureInfo.InvariantCulture), f[8]);
    }

    /// <summary>The version a successful write reports, else null.</summary>
    internal long? WrittenVersion => Kind switch
    {
        "set" => long.Parse(Result, CultureInfo.InvariantCulture),
        "cas" or "create" when Result.StartsWith("ok ", StringComparison.Ordinal) => long.Parse(Result[3..], CultureInfo.InvariantCulture),
        _ => null,
    };

    public override string ToString() => $"p{Process}#{Index} {Kind} {Key} {Argument} -> {Result} [{Start}, {End}]";
}

/// <summary>
/// Checks a history of operations from several processes against the store's promises. Keys are independent, so each
/// key's history is checked on its own for linearizability (Wing and Gong's search with Lowe's memoisation: some order of
/// the operations, consistent with real time, in which every result is what a single register with versions gives).
/// Across keys, versions come from one store-wide sequence: a successful write's version is unique and a write that
/// finished before another began has the smaller version.
/// </summary>
internal static class HistoryChecker
{
    /// <summary>A key's state: its value (null: missing) and the version of its last write (kept after removal).</summary>
    private readonly record struct State(string? Value, long Version);

    /// <summary>Problems found; empty when the history is linearizable.</summary>
    internal static List<string> Check(IReadOnlyList<HistoryOp> history)
    {
        var problems = new List<string>();
        CheckVersions(history, problems);
        foreach (var key in history.GroupBy(o => o.Key))
        {
            var ops = key.OrderBy(o => o.Start).ToArray();
            if (ops.Length > 128)
            {
                throw new ArgumentException($"Key {key.Key} has {ops.Length} operations; the checker takes up to 128 per key.", nameof(history));
            }

            if (!new Search(ops).Run())
            {
                problems.Add($"key {key.Key}: no order of its {ops.Length} operations explains every result:\n  " + string.Join("\n  ", ops.Select(o => o.ToString())));
            }
        }

        return problems;
    }

    private static void CheckVersions(IReadOnlyList<HistoryOp> history, List<string> problems)
    {
        var writes = history.Where(o => o.WrittenVersion is not null).OrderByDescending(o => o.WrittenVersion).ToList();
        foreach (var duplicate in writes.GroupBy(o => o.WrittenVersion).Where(g => g.Count() > 1))
        {
            problems.Add($"version {duplicate.Key} was given to {duplicate.Count()} writes: {string.Join("; ", duplicate)}");
        }

        // Descending versions: the earliest end among the writes with a larger version must not precede this one's start.
        HistoryOp? earliestLater = null;
        foreach (var write in writes)
        {
            if (earliestLater is not null && earliestLater.End < write.Start)
            {
                problems.Add($"{earliestLater} finished before {write} began, yet has the larger version");
            }

            if (earliestLater is null || write.End < earliestLater.End)
            {
                earliestLater = write;
            }
        }
    }

    /// <summary>The search over one key's operations (at most 128: the linearized set is a bit mask).</summary>
    private sealed class Search
    {
        private readonly HistoryOp[] _ops;
        private readonly HashSet<(UInt128, State)> _visited = new();

        internal Search(HistoryOp[] ops)
        {
            _ops = ops;
        }

        internal bool Run() => Extend(UInt128.Zero, new State(null, 0));

        private bool Extend(UInt128 done, State state)
        {
            if (done == (_ops.Length == 128 ? UInt128.MaxValue : (UInt128.One << _ops.Length) - 1))
            {
                return true;
            }

            if (!_visited.Add((done, state)))
            {
                return false;
            }

            // Candidates: operations not yet placed that began before every pending operation ended.
            var firstEnd = long.MaxValue;
            for (var i = 0; i < _ops.Length; i++)
            {
                if ((done & (UInt128.One << i)) == 0)
                {
                    firstEnd = Math.Min(firstEnd, _ops[i].End);
                }
            }

            for (var i = 0; i < _ops.Length; i++)
            {
                if ((done & (UInt128.One << i)) == 0 && _ops[i].Start <= firstEnd && Apply(state, _ops[i]) is { } next
                    && Extend(done | (UInt128.One << i), next))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The state after the operation, or null when its result is impossible in <paramref name="s"/>.</summary>
        private static State? Apply(State s, HistoryOp op)
        {
            var live = s.Value is not null;
            switch (op.Kind)
            {
                case "set":
                    return op.WrittenVersion > s.Version ? new State(op.Argument, op.WrittenVersion!.Value) : null;
                case "create":
                    return op.WrittenVersion is { } created
                        ? (!live && created > s.Version ? new State(op.Argument, created) : null)
                        : (live ? s : null);
                case "cas":
                    var at = op.Argument.LastIndexOf('@');
                    var expected = long.Parse(op.Argument[(at + 1)..], CultureInfo.InvariantCulture);
                    var matches = live && s.Version == expected;
                    return op.WrittenVersion is { } swapped
                        ? (matches && swapped > s.Version ? new State(op.Argument[..at], swapped) : null)
                        : (matches ? null : s);
                case "remove":
                    return op.Result == "True" ? (live ? s with { Value = null } : null) : (live ? null : s);
                default: // get
                    return op.Result == "none" ? (live ? null : s) : (op.Result == $"{s.Value} {s.Version.ToString(CultureInfo.InvariantCulture)}" ? s : null);
            }
        }
    }
}
