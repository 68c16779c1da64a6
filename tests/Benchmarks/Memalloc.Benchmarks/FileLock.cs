using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Memalloc.Benchmarks;

/// <summary>flock(2) on a file: the lock file that shell scripts (flock(1)) and many tools use.</summary>
internal static partial class FileLock
{
    private const int LockExclusive = 2;
    private const int Unlock = 8;

    internal static SafeFileHandle Open(string path) => File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);

    internal static void Take(SafeFileHandle file) => Check(Flock((int)file.DangerousGetHandle(), LockExclusive));

    internal static void Release(SafeFileHandle file) => Check(Flock((int)file.DangerousGetHandle(), Unlock));

    private static void Check(int result)
    {
        if (result != 0)
        {
            throw new IOException($"flock failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);
}
