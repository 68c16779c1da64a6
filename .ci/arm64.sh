#!/usr/bin/env bash
# The Linux arm64 pass: the core's single-process xunit tests, published self-contained for linux-arm64 and run under
# qemu-user (Debian's qemu-user plus libc6:arm64), in a private IPC namespace. Prints the runner's report; its last
# line is 'arm64: N passed, N failed, N skipped, N not run'. Exit code 0 only when nothing failed.
#
# What is not run, and why (the runner prints the counts):
# - tests that start child processes (the xunit collection "Memalloc child processes"): a lock word carries its
#   owner's start time from /proc/<pid>/stat, and qemu-user answers a process reading its own stat with an emulated
#   start time that differs from what every other process reads (measured: 774186 against 774185 ticks), so the
#   children would take the emulated parent for a reused pid and its lock for a dead owner's;
# - Category=Stress, as in every quick run.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v qemu-aarch64 >/dev/null 2>&1 || [ ! -e /lib/ld-linux-aarch64.so.1 ] || [ ! -e /usr/lib/aarch64-linux-gnu/libstdc++.so.6 ]; then
  dpkg --add-architecture arm64
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user libc6:arm64 libstdc++6:arm64 >/dev/null
fi

out=out/arm64-tests
rm -rf "$out"
# -p:TestRid, not -r: see tests/Memalloc.TestRunner/Memalloc.TestRunner.csproj.
dotnet publish tests/Memalloc.TestRunner --configuration Release -p:TestRid=linux-arm64 --output "$out" --nologo --verbosity quiet

# DOTNET_EnableWriteXorExecute=0: .NET maps JIT code twice (writable and executable views of one memory object);
# qemu-user does not see writes through the other view and runs stale translations (crashes in reflection stubs).
DOTNET_EnableWriteXorExecute=0 unshare --ipc -- qemu-aarch64 -L / "$out/Memalloc.TestRunner" --name arm64
