namespace Memalloc.Core.Snapshots;

/// <summary>How an export treats a file that already exists at the target path.</summary>
public enum SnapshotOverwrite
{
    /// <summary>Replace it, unless it is read-only.</summary>
    Replace,
    /// <summary>Replace it even when it is read-only (-Force).</summary>
    ReplaceReadOnly,
    /// <summary>Never replace it (-NoClobber): decided by the file system in the same step that publishes the file.</summary>
    Never,
}
