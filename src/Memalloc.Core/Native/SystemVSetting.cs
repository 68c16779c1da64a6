namespace Memalloc.Core.Native;

/// <summary>The System V limits an error can name.</summary>
internal enum SystemVSetting
{
    /// <summary>shmmax: the largest segment.</summary>
    MaxSegmentBytes,
    /// <summary>shmall: all segments together, in pages.</summary>
    TotalPages,
    /// <summary>shmmni: segments on the machine (or IPC namespace).</summary>
    MaxSegments,
    /// <summary>shmseg: attachments per process (macOS; emulated on Linux for tests).</summary>
    MaxAttachmentsPerProcess,
}
