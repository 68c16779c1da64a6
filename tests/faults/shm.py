#!/usr/bin/env python3
"""Raw System V shared-memory access for the hostile-segment tests (tests/Security.Tests.ps1), through libc (ctypes).

Why it exists: those tests must act as ANOTHER USER. Under `setpriv --reuid=nobody --regid=nogroup --clear-groups`
it plants segments at our store's keys and tries to attach ours, as user nobody; a pwsh process cannot change its
uid, and the module by design never creates, attaches or writes a segment that is not a sound store of its own
user. For the same reason the tests use it, as root, for the other thing the module refuses to do: read and
corrupt single bytes of our own segments. Keep it to that: anything the cmdlets or the core can do belongs in the
tests' pwsh, not here.

Every command prints one JSON object; errors are reported as {"ok": false, "errno": n}.

  create KEY SIZE MODE [HEXFILE]   shmget(KEY, SIZE, IPC_CREAT|IPC_EXCL|MODE); optionally fill from a hex file
  find KEY                         shmget(KEY, 0, 0)
  stat SHMID                       IPC_STAT: uid, cuid, mode, size, nattch, cpid, lpid, atime
  attach SHMID                     shmat read-only, then detach
  read SHMID OFFSET LENGTH         bytes as hex
  write SHMID OFFSET HEX           writes bytes
  readu64 SHMID OFFSET / writeu64 SHMID OFFSET VALUE
  search SHMID HEX                 offsets of a byte string
  remove SHMID                     IPC_RMID
"""
import ctypes
import json
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmget.restype = ctypes.c_int
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmat.restype = ctypes.c_void_p
libc.shmdt.argtypes = [ctypes.c_void_p]
libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]

IPC_CREAT, IPC_EXCL, IPC_RMID, IPC_STAT, SHM_RDONLY = 0o1000, 0o2000, 0, 2, 0o10000


class IpcPerm(ctypes.Structure):  # glibc x86_64/aarch64 struct ipc_perm (bits/ipc.h)
    _fields_ = [("key", ctypes.c_int), ("uid", ctypes.c_uint), ("gid", ctypes.c_uint), ("cuid", ctypes.c_uint),
                ("cgid", ctypes.c_uint), ("mode", ctypes.c_ushort), ("pad1", ctypes.c_ushort),
                ("seq", ctypes.c_ushort), ("pad2", ctypes.c_ushort), ("unused1", ctypes.c_ulong),
                ("unused2", ctypes.c_ulong)]


class ShmidDs(ctypes.Structure):  # glibc struct shmid_ds (bits/shm.h), 64-bit
    _fields_ = [("perm", IpcPerm), ("segsz", ctypes.c_size_t), ("atime", ctypes.c_long), ("dtime", ctypes.c_long),
                ("ctime", ctypes.c_long), ("cpid", ctypes.c_int), ("lpid", ctypes.c_int),
                ("nattch", ctypes.c_ulong), ("unused4", ctypes.c_ulong), ("unused5", ctypes.c_ulong)]


def fail():
    print(json.dumps({"ok": False, "errno": ctypes.get_errno()}))
    sys.exit(0)


def stat(shmid):
    ds = ShmidDs()
    if libc.shmctl(shmid, IPC_STAT, ctypes.byref(ds)) != 0:
        fail()
    return {"ok": True, "shmid": shmid, "key": ds.perm.key, "uid": ds.perm.uid, "cuid": ds.perm.cuid,
            "mode": ds.perm.mode & 0o777, "size": ds.segsz, "nattch": ds.nattch, "cpid": ds.cpid, "lpid": ds.lpid,
            "atime": ds.atime}


def attach(shmid, readonly):
    addr = libc.shmat(shmid, None, SHM_RDONLY if readonly else 0)
    if addr is None or addr == ctypes.c_void_p(-1).value:
        fail()
    return addr


def is_object(arg):
    """A POSIX arena object's name ('/ma....', a file in /dev/shm) rather than a shmid."""
    return arg.startswith("/")


def object_stat(name):
    try:
        st = os.stat("/dev/shm" + name)
    except OSError as e:
        print(json.dumps({"ok": False, "errno": e.errno}))
        sys.exit(0)
    return {"ok": True, "name": name, "key": 0, "uid": st.st_uid, "cuid": st.st_uid, "mode": st.st_mode & 0o777,
            "size": st.st_size, "nattch": 0, "cpid": 0, "lpid": 0, "atime": int(st.st_atime)}


def read_all(arg):
    if is_object(arg):
        object_stat(arg)
        with open("/dev/shm" + arg, "rb") as f:
            return f.read()
    shmid = int(arg)
    size = stat(shmid)["size"]
    addr = attach(shmid, True)
    data = ctypes.string_at(addr, size)
    libc.shmdt(addr)
    return data


def main(argv):
    cmd = argv[0]
    if cmd == "create":
        key, size, mode = int(argv[1], 0), int(argv[2], 0), int(argv[3], 8)
        shmid = libc.shmget(key, size, IPC_CREAT | IPC_EXCL | mode)
        if shmid < 0:
            fail()
        if len(argv) > 4:
            data = bytes.fromhex(open(argv[4]).read().strip())
            addr = attach(shmid, False)
            ctypes.memmove(addr, data, min(len(data), size))
            libc.shmdt(addr)
        out = stat(shmid)
    elif cmd == "find":
        shmid = libc.shmget(int(argv[1], 0), 0, 0)
        if shmid < 0:
            fail()
        out = {"ok": True, "shmid": shmid}
    elif cmd == "stat":
        out = object_stat(argv[1]) if is_object(argv[1]) else stat(int(argv[1]))
    elif cmd == "attach":
        libc.shmdt(attach(int(argv[1]), True))
        out = {"ok": True}
    elif cmd in ("read", "readu64", "search"):
        data = read_all(argv[1])
        if cmd == "read":
            off, length = int(argv[2], 0), int(argv[3], 0)
            out = {"ok": True, "hex": data[off:off + length].hex()}
        elif cmd == "readu64":
            off = int(argv[2], 0)
            out = {"ok": True, "value": int.from_bytes(data[off:off + 8], "little")}
        else:
            needle = bytes.fromhex(argv[2])
            found, i = [], data.find(needle)
            while i >= 0 and len(found) < 64:
                found.append(i)
                i = data.find(needle, i + 1)
            out = {"ok": True, "offsets": found}
    elif cmd in ("write", "writeu64"):
        target, off = argv[1], int(argv[2], 0)
        data = bytes.fromhex(argv[3]) if cmd == "write" else (int(argv[3], 0) & (2 ** 64 - 1)).to_bytes(8, "little")
        size = object_stat(target)["size"] if is_object(target) else stat(int(target))["size"]
        if off < 0 or off + len(data) > size:
            print(json.dumps({"ok": False, "errno": 0, "error": "out of the segment"}))
            return
        if is_object(target):
            with open("/dev/shm" + target, "r+b") as f:
                f.seek(off)
                f.write(data)
        else:
            addr = attach(int(target), False)
            ctypes.memmove(addr + off, data, len(data))
            libc.shmdt(addr)
        out = {"ok": True}
    elif cmd == "remove":
        if is_object(argv[1]):
            os.unlink("/dev/shm" + argv[1])
        elif libc.shmctl(int(argv[1]), IPC_RMID, None) != 0:
            fail()
        out = {"ok": True}
    else:
        raise SystemExit("unknown command " + cmd)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
