# Dot-sourced by the snapshot suites (Export-MemStore.Tests.ps1, Import-MemStore.Tests.ps1) after common.ps1.

# A private folder for snapshot files; the caller removes it.
function New-SnapshotFolder {
    (New-Item -ItemType Directory -Path (Join-Path ([System.IO.Path]::GetTempPath()) "memalloc-snap-$([guid]::NewGuid().ToString('N'))")).FullName
}

# XXH3-64 (seed 0) of some bytes, as the snapshot format's checksums use it.
function Get-Xxh3([byte[]] $Bytes) {
    $hash = [System.IO.Hashing.XxHash3]::Hash($Bytes, 0)   # big-endian bytes
    [array]::Reverse($hash)
    [BitConverter]::ToUInt64($hash, 0)
}

# Adds a record of another kind (as a newer version could write) before the trailer of a snapshot, and fixes the
# trailer's record count and both checksums, following docs/snapshot-format.md: a well-formed file from the future.
function Add-SnapshotRecord {
    param ([string] $Path, [byte] $Kind, [byte[]] $Payload)
    $null = [Memalloc.Core.MemStore]::ListStoreNames()   # loads Memalloc.Core and with it System.IO.Hashing
    $file = [System.IO.File]::ReadAllBytes($Path)
    $trailerAt = $file.Length - 32
    $record = [byte[]]::new(16 + $Payload.Length)
    $record[0] = $Kind
    [BitConverter]::GetBytes([long] $Payload.Length).CopyTo($record, 8)
    $Payload.CopyTo($record, 16)
    $trailer = [byte[]] $file[$trailerAt..($file.Length - 1)]
    [BitConverter]::GetBytes([BitConverter]::ToInt64($trailer, 8) + 1).CopyTo($trailer, 8)
    $content = [byte[]] (@($file[128..($trailerAt - 1)]) + @($record) + @($trailer))
    $header = [byte[]] $file[0..127]
    [BitConverter]::GetBytes([long] $content.Length).CopyTo($header, 16)
    [BitConverter]::GetBytes((Get-Xxh3 $content)).CopyTo($header, 24)
    [BitConverter]::GetBytes((Get-Xxh3 ([byte[]] $header[0..119]))).CopyTo($header, 120)
    [System.IO.File]::WriteAllBytes($Path, [byte[]] (@($header) + @($content)))
}

# Checks a snapshot file whole with the core's reader (header, checksum, every record) and returns what it holds;
# throws for a file Import-MemStore would refuse.
function Test-SnapshotFile([string] $Path) {
    $reader = [Memalloc.Core.Snapshots.SnapshotFileReader]::Open($Path)
    try { $reader.Verify() }
    finally { $reader.Dispose() }
}
