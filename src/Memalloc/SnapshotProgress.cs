using System;
using System.Diagnostics;
using System.Management.Automation;

namespace Memalloc;

/// <summary>
/// A progress bar for a snapshot operation, shown only once it has run for a second (a quick export or import shows
/// none) and then updated at most four times a second, so that reporting costs nothing next to the work.
/// </summary>
internal sealed class SnapshotProgress
{
    private static readonly long s_showAfter = Stopwatch.Frequency;
    private static readonly long s_interval = Stopwatch.Frequency / 4;

    private readonly Cmdlet _cmdlet;
    private readonly int _activityId;
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _lastShown;
    private ProgressRecord? _record;

    internal SnapshotProgress(Cmdlet cmdlet, int activityId)
    {
        _cmdlet = cmdlet;
        _activityId = activityId;
    }

    /// <summary>Whether a report now would be shown: the caller formats its status only then (an export of 100,000
    /// stacks asks 100,000 times).</summary>
    internal bool Due(string activity)
    {
        var now = Stopwatch.GetTimestamp();
        return now - _started >= s_showAfter && (now - _lastShown >= s_interval || _record?.Activity != activity);
    }

    /// <summary>Shows <paramref name="done"/> of <paramref name="total"/> for <paramref name="activity"/>.</summary>
    internal void Show(string activity, string status, long done, long total)
    {
        _lastShown = Stopwatch.GetTimestamp();
        _record = new ProgressRecord(_activityId, activity, status)
        {
            PercentComplete = total <= 0 ? -1 : (int)Math.Clamp(done * 100 / total, 0, 100),
        };
        _cmdlet.WriteProgress(_record);
    }

    /// <summary>Removes the bar, if one was shown.</summary>
    internal void Complete()
    {
        if (_record is not null)
        {
            _record.RecordType = ProgressRecordType.Completed;
            _cmdlet.WriteProgress(_record);
            _record = null;
        }
    }
}
