using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;

namespace Memalloc.TestHost;

/// <summary>One line of /proc/sysvipc/shm: what the kernel says about a segment, without attaching it.</summary>
internal readonly record struct ShmEntry(int Key, int Id, int Perms, long Size, int CreatorPid, int LastPid, long Attached,
    uint Uid, uint Cuid, long AttachTime, long ChangeTime);

/// <summary>
/// System V calls for the tests and the host, independent of the core's own native layer so that a bug there
/// cannot hide itself. Linux only (the tests run on Linux); reads segment status from /proc/sysvipc/shm
/// rather than through struct shmid_ds, whose layout differs per platform.
/// </summary>
internal static unsafe partial class SysVTestNative
{
    internal const int IPC_CREAT = 0x200;
    internal const int IPC_EXCL = 0x400;
    internal const int IPC_RMID = 0;
    internal const int SHM_RDONLY = 0x1000;
    internal const int EACCES = 13;
    internal const int EEXIST = 17;

    [DllImport("libc.so.6", EntryPoint = "shmget", SetLastError = true)]
    private static extern int ShmGetNative(int key, nuint size, int flags);

    [DllImport("libc.so.6", EntryPoint = "shmat", SetLastError = true)]
    private static extern IntPtr ShmAtNative(int shmid, IntPtr address, int flags);

    [DllImport("libc.so.6", EntryPoint = "shmdt", SetLastError = true)]
    private static extern int ShmDtNative(IntPtr address);

    [DllImport("libc.so.6", EntryPoint = "shmctl", SetLastError = true)]
    private static extern int ShmCtlNative(int shmid, int command, IntPtr buffer);

    [DllImport("libc.so.6", EntryPoint = "geteuid")]
    internal static extern uint GetEuid();

    [DllImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    private static extern int KillNative(int pid, int signal);

    /// <summary>shmget; returns the shmid or -errno.</summary>
    internal static int ShmGet(int key, long size, int flags)
    {
        var id = ShmGetNative(key, (nuint)size, flags);
        return id >= 0 ? id : -Marshal.GetLastPInvokeError();
    }

    /// <summary>shmat; the address, or IntPtr.Zero with errno set in <paramref name="errno"/>.</summary>
    internal static IntPtr ShmAt(int shmid, bool readOnly, out int errno)
    {
        var address = ShmAtNative(shmid, IntPtr.Zero, readOnly ? SHM_RDONLY : 0);
        if (address == new IntPtr(-1))
        {
            errno = Marshal.GetLastPInvokeError();
            return IntPtr.Zero;
        }

        errno = 0;
        return address;
    }

    internal static void ShmDt(IntPtr address) => _ = ShmDtNative(address);

    /// <summary>IPC_RMID, as `ipcrm -m` does; returns 0 or errno.</summary>
    internal static int Remove(int shmid) => ShmCtlNative(shmid, IPC_RMID, IntPtr.Zero) == 0 ? 0 : Marshal.GetLastPInvokeError();

    internal const int SIGCONT = 18;
    internal const int SIGSTOP = 19;

    /// <summary>kill(pid, signal); 0 or errno.</summary>
    internal static int Signal(int pid, int signal) => KillNative(pid, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();

    internal static void KillSelf()
    {
        _ = KillNative(Environment.ProcessId, 9);
    }

    internal static List<ShmEntry> ListSegments()
    {
        var result = new List<ShmEntry>();
        foreach (var line in File.ReadLines("/proc/sysvipc/shm"))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 14 || f[0] == "key")
            {
                continue;
            }

            var c = CultureInfo.InvariantCulture;
            result.Add(new ShmEntry(
                Key: int.Parse(f[0], c),
                Id: int.Parse(f[1], c),
                Perms: Convert.ToInt32(f[2], 8),
                Size: long.Parse(f[3], c),
                CreatorPid: int.Parse(f[4], c),
                LastPid: int.Parse(f[5], c),
                Attached: long.Parse(f[6], c),
                Uid: uint.Parse(f[7], c),
                Cuid: uint.Parse(f[9], c),
                AttachTime: long.Parse(f[11], c),
                ChangeTime: long.Parse(f[13], c)));
        }

        return result;
    }

    internal static ShmEntry? FindById(int shmid)
    {
        foreach (var entry in ListSegments())
        {
            if (entry.Id == shmid)
            {
                return entry;
            }
        }

        return null;
    }

    internal static ShmEntry? FindByKey(int key)
    {
        foreach (var entry in ListSegments())
        {
            if (entry.Key == key)
            {
                return entry;
            }
        }

        return null;
    }

    /// <summary>Copies a segment's bytes (attached read-only, detached at once).</summary>
    internal static byte[] ReadSegment(int shmid, long length)
    {
        var address = ShmAt(shmid, readOnly: true, out var errno);
        if (address == IntPtr.Zero)
        {
            throw new IOException($"shmat({shmid}) failed with errno {errno}");
        }

        try
        {
            return new ReadOnlySpan<byte>((void*)address, checked((int)length)).ToArray();
        }
        finally
        {
            ShmDt(address);
        }
    }

    /// <summary>Overwrites bytes of a segment in place (the test's way of corrupting a store).</summary>
    internal static void WriteSegment(int shmid, long offset, ReadOnlySpan<byte> bytes)
    {
        var address = ShmAt(shmid, readOnly: false, out var errno);
        if (address == IntPtr.Zero)
        {
            throw new IOException($"shmat({shmid}) failed with errno {errno}");
        }

        try
        {
            bytes.CopyTo(new Span<byte>((byte*)address + offset, bytes.Length));
        }
        finally
        {
            ShmDt(address);
        }
    }
}
