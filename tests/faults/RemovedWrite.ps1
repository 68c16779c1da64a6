#Requires -Version 7.4
# Writes, has its own store's segments removed with ipcrm (and its POSIX arena objects with rm) (as systemd-logind's RemoveIPC or an administrator would),
# and at once writes again: prints one JSON object saying whether that second write reported success or an error.
# The parent then asks a fresh process whether an acknowledged write survived.
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Store,
    [int] $DelayMilliseconds = 0
)

$ErrorActionPreference = 'Stop'
Import-Module -Name $ModulePath
Set-MemStack -Name 'x' -Value 'before' -Store $Store
$info = Get-MemStore -Name $Store
foreach ($id in $info.SegmentIds) { & ipcrm -m $id }
foreach ($name in $info.ArenaObjects) { Remove-Item -LiteralPath "/dev/shm$name" }   # POSIX arenas (emulated Mac)
if ($DelayMilliseconds) { Start-Sleep -Milliseconds $DelayMilliseconds }
$result = [ordered]@{ Ok = $true; ErrorId = $null; Category = $null; Message = $null }
try { Set-MemStack -Name 'x' -Value 'after' -Store $Store }
catch {
    $result.Ok = $false
    $result.ErrorId = $_.FullyQualifiedErrorId
    $result.Category = "$($_.CategoryInfo.Category)"
    $result.Message = $_.Exception.Message
}
$result | ConvertTo-Json -Compress
