using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Memalloc.Core.Native;

/// <summary>
/// macOS sysctls: the System V limits (<c>kern.sysv.shmmax</c>, <c>shmall</c>, <c>shmseg</c>, <c>shmmni</c>) and the
/// segment list that <c>/usr/bin/ipcs</c> reads through <c>kern.sysv.ipcs.shm</c> (macOS has no /proc/sysvipc/shm).
/// Layouts follow bsd/sys/ipcs.h, bsd/sys/shm_internal.h and bsd/kern/sysv_shm.c (xnu-11417); the encoders and
/// decoders are pure functions tested on buffers, the calls only run on a Mac.
/// </summary>
internal static unsafe partial class DarwinSysctl
{
    private const string LibraryName = Libc.LibraryName;

    /// <summary>bsd/sys/ipcs.h: <c>IPCS_SHM_SYSCTL</c>.</summary>
    internal const string IpcsShmName = "kern.sysv.ipcs.shm";

    /// <summary>bsd/sys/ipcs.h: <c>#define IPCS_MAGIC 0x00000001</c> (the version of the command layout).</summary>
    internal const int IPCS_MAGIC = 1;

    /// <summary>bsd/sys/ipcs.h: <c>#define IPCS_SHM_ITER 0x00000002</c>.</summary>
    internal const int IPCS_SHM_ITER = 2;

    /// <summary>
    /// <c>struct IPCS_command</c> of a 64-bit process (bsd/sys/ipcs.h; the kernel's <c>struct user_IPCS_command</c>),
    /// natural alignment:
    /// <code>
    /// int ipcs_magic @0; int ipcs_op @4; int ipcs_cursor @8; int ipcs_datalen @12; void *ipcs_data @16;   // 24 bytes
    /// </code>
    /// </summary>
    internal const int IpcsCommandSize = 24;

    private const int MagicOffset = 0;
    private const int OpOffset = 4;
    private const int CursorOffset = 8;
    private const int DataLengthOffset = 12;
    private const int DataOffset = 16;

    /// <summary><c>sizeof(struct __shmid_ds_new)</c> = <c>sizeof(struct user_shmid_ds)</c> on LP64 (see <see cref="MacOSAbi"/>).</summary>
    internal const int ShmidDsSize = 76;

    /// <summary>bsd/sys/ipc.h, <c>struct __ipc_perm_new</c> (<c>#pragma pack(4)</c>): <c>unsigned short _seq</c> at 18.</summary>
    internal const int PermSequenceOffset = 18;

    /// <summary>bsd/sys/errno.h: <c>#define ERANGE 34</c> (the same on Linux): the iterator's cursor is past shmmni.</summary>
    private const int ERANGE = 34;

    /// <summary>sysctl.h: <c>int sysctlbyname(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)</c>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "sysctlbyname", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SysctlByName(string name, void* oldValue, nuint* oldLength, void* newValue, nuint newLength);

    /// <summary>Reads a 64-bit sysctl (the kern.sysv.shm* limits are CTLTYPE_QUAD: bsd/kern/sysv_shm.c); 0 or the errno.</summary>
    internal static int TryReadInt64(string name, out long value)
    {
        long result = 0;
        nuint length = sizeof(long);
        if (SysctlByName(name, &result, &length, null, 0) != 0)
        {
            value = 0;
            return Marshal.GetLastPInvokeError();
        }

        value = result;
        return length == sizeof(long) ? 0 : Libc.EINVAL;
    }

    /// <summary>Writes an IPCS_SHM_ITER command at <paramref name="cursor"/> asking for one entry of
    /// <paramref name="dataLength"/> bytes at <paramref name="dataAddress"/>.</summary>
    internal static void EncodeIterCommand(Span<byte> command, int cursor, int dataLength, ulong dataAddress)
    {
        command[..IpcsCommandSize].Clear();
        BinaryPrimitives.WriteInt32LittleEndian(command[MagicOffset..], IPCS_MAGIC);
        BinaryPrimitives.WriteInt32LittleEndian(command[OpOffset..], IPCS_SHM_ITER);
        BinaryPrimitives.WriteInt32LittleEndian(command[CursorOffset..], cursor);
        BinaryPrimitives.WriteInt32LittleEndian(command[DataLengthOffset..], dataLength);
        BinaryPrimitives.WriteUInt64LittleEndian(command[DataOffset..], dataAddress);
    }

    /// <summary>The cursor the kernel wrote back: one past the slot whose entry it copied out.</summary>
    internal static int ReadCursor(ReadOnlySpan<byte> command) => BinaryPrimitives.ReadInt32LittleEndian(command[CursorOffset..]);

    /// <summary>
    /// Decodes one iterator entry, a <c>struct user_shmid_ds</c> (bsd/sys/shm_internal.h, <c>#pragma pack(4)</c>): the same
    /// 76 bytes as the user-space <c>struct __shmid_ds_new</c> that IPC_STAT fills, so the IPC_STAT decoder
    /// (<see cref="MacOSAbi.DecodeShmidDs"/>) reads it. The shmid is <c>IXSEQ_TO_IPCID(cursor - 1, shm_perm)</c> =
    /// <c>_seq &lt;&lt; 16 | slot</c> (bsd/sys/ipc.h), with <c>unsigned short _seq</c> at offset 18 of the ipc_perm.
    /// False for an entry that is not an allocated, unremoved segment, or a buffer too short.
    /// </summary>
    internal static bool TryDecodeEntry(ReadOnlySpan<byte> entry, int cursorAfter, out DarwinSegment segment)
    {
        segment = default;
        if (entry.Length < ShmidDsSize || cursorAfter < 1)
        {
            return false;
        }

        SegmentStatus status;
        fixed (byte* ds = entry)
        {
            status = MacOSAbi.DecodeShmidDs(ds);
        }

        if ((status.Mode & (MacOSAbi.SHMSEG_ALLOCATED | MacOSAbi.SHMSEG_REMOVED)) != MacOSAbi.SHMSEG_ALLOCATED)
        {
            return false;
        }

        var sequence = BinaryPrimitives.ReadUInt16LittleEndian(entry[PermSequenceOffset..]);
        segment = new DarwinSegment((sequence << 16) | ((cursorAfter - 1) & 0xFFFF), status);
        return true;
    }

    /// <summary>Every allocated System V segment on the machine, as <c>ipcs -m</c> lists them: IPCS_SHM_ITER from cursor 0,
    /// the command passed as both the old and the new value, until ENOENT (no more) or ERANGE (cursor past shmmni).</summary>
    internal static List<DarwinSegment> ListSegments()
    {
        var segments = new List<DarwinSegment>();
        var entry = stackalloc byte[ShmidDsSize];
        var command = stackalloc byte[IpcsCommandSize];
        var cursor = 0;
        while (true)
        {
            new Span<byte>(entry, ShmidDsSize).Clear();
            EncodeIterCommand(new Span<byte>(command, IpcsCommandSize), cursor, ShmidDsSize, (ulong)entry);
            nuint length = IpcsCommandSize;
            if (SysctlByName(IpcsShmName, command, &length, command, IpcsCommandSize) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.ENOENT || errno == ERANGE)
                {
                    return segments;
                }

                throw Libc.Failure("sysctlbyname", errno, $"Listing System V segments ({IpcsShmName})");
            }

            var next = ReadCursor(new ReadOnlySpan<byte>(command, IpcsCommandSize));
            if (next <= cursor)
            {
                return segments; // a cursor that does not advance would loop forever: stop at what was listed
            }

            if (TryDecodeEntry(new ReadOnlySpan<byte>(entry, ShmidDsSize), next, out var segment))
            {
                segments.Add(segment);
            }

            cursor = next;
        }
    }
}
