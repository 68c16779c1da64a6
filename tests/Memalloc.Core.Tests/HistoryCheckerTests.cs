using System.Linq;
using Memalloc.Core.Tests.Model;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>The linearizability checker itself: it accepts what a store may do and rejects what it must not.</summary>
public sealed class HistoryCheckerTests
{
    private static HistoryOp Op(int process, string kind, string key, string argument, long start, long end, string result) =>
        new(process, (int)start, kind, key, argument, start, end, result);

    [Fact]
    public void Overlapping_operations_may_take_effect_in_either_order()
    {
        var history = new[]
        {
            Op(0, "set", "k", "0.0", 0, 10, "1"),
            Op(1, "set", "k", "1.0", 2, 12, "2"),
            Op(2, "get", "k", "-", 3, 11, "0.0 1"), // between the two writes
            Op(2, "get", "k", "-", 20, 21, "1.0 2"),
        };
        Assert.Empty(HistoryChecker.Check(history));
    }

    [Fact]
    public void A_read_of_an_overwritten_value_after_the_overwrite_finished_is_rejected()
    {
        var history = new[]
        {
            Op(0, "set", "k", "0.0", 0, 1, "1"),
            Op(0, "set", "k", "0.1", 2, 3, "2"),
            Op(1, "get", "k", "-", 4, 5, "0.0 1"),
        };
        Assert.Single(HistoryChecker.Check(history));
    }

    [Fact]
    public void Two_successful_compare_and_sets_on_the_same_version_are_rejected()
    {
        var history = new[]
        {
            Op(0, "set", "k", "0.0", 0, 1, "1"),
            Op(0, "cas", "k", "0.1@1", 2, 10, "ok 2"),
            Op(1, "cas", "k", "1.0@1", 3, 9, "ok 3"), // a lost update
        };
        Assert.NotEmpty(HistoryChecker.Check(history));
    }

    [Fact]
    public void Versions_that_recur_or_run_against_real_time_are_rejected()
    {
        var recurring = new[] { Op(0, "set", "a", "0.0", 0, 1, "5"), Op(1, "set", "b", "1.0", 2, 3, "5") };
        Assert.Contains(HistoryChecker.Check(recurring), p => p.Contains("was given to 2 writes", System.StringComparison.Ordinal));
        var backwards = new[] { Op(0, "set", "a", "0.0", 0, 1, "7"), Op(1, "set", "b", "1.0", 2, 3, "6") };
        Assert.Contains(HistoryChecker.Check(backwards), p => p.Contains("has the larger version", System.StringComparison.Ordinal));
    }

    [Fact]
    public void A_removal_and_a_create_only_write_follow_the_register()
    {
        var history = new[]
        {
            Op(0, "create", "k", "0.0", 0, 1, "ok 1"),
            Op(1, "create", "k", "1.0", 2, 3, "fail"),
            Op(0, "remove", "k", "-", 4, 5, "True"),
            Op(1, "remove", "k", "-", 6, 7, "False"),
            Op(1, "get", "k", "-", 8, 9, "none"),
        };
        Assert.Empty(HistoryChecker.Check(history));
        Assert.NotEmpty(HistoryChecker.Check(history.Append(Op(0, "create", "k", "0.1", 10, 11, "fail")).ToArray()));
    }
}
