#Requires -Version 7.4
<#
.SYNOPSIS
The emulated-Mac pass: macOS's stock System V budget on Linux, then the suites that must pass under it.

.DESCRIPTION
Run by the Test task (EmulatedMacTests) as root inside `unshare --ipc`: System V limits are per IPC namespace, so
writing /proc/sys/kernel/shm* here changes nothing outside. It sets what a stock Mac has (bsd/kern/sysv_shm.c:
kern.sysv.shmmax 4 MiB, shmall 1024 pages, shmmni 32) and the test-only MEMALLOC_TEST_SHMSEG=8 for kern.sysv.shmseg,
which Linux does not have (the core then fails a ninth shmat with EMFILE, as macOS does). Then it runs xunit's
multi-process and crash tests and every Pester suite but Stress (tests/EmulatedMac.Tests.ps1 among them: the
256 MiB store under churn, 16 stores in one session, a killed lock holder) and writes their counts as JSON.
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $RepoRoot,
    [Parameter(Mandatory)] [string] $ResultDir,
    [Parameter(Mandatory)] [string] $PesterPath,
    [ValidateSet('Debug', 'Release')] [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'TestSummary.psm1') -Force

$link = (Get-Item -LiteralPath '/proc/self/ns/ipc').LinkTarget
if ($link -eq 'ipc:[4026531839]') { throw "Run this inside 'unshare --ipc': it changes System V limits, which would change them for the whole machine." }
# shmmax before shmall: both only shrink what the namespace allows; the order keeps every moment consistent.
# File.WriteAllText, not Set-Content: Set-Content's write to a /proc/sys file is silently lost.
foreach ($setting in @(@('shmmax', 4194304), @('shmall', 1024), @('shmmni', 32))) {
    $path = "/proc/sys/kernel/$($setting[0])"
    [IO.File]::WriteAllText($path, "$($setting[1])")
    if ((Get-Content -LiteralPath $path) -ne "$($setting[1])") { throw "Could not set $path to $($setting[1])." }
}
$env:MEMALLOC_TEST_SHMSEG = '8'
Write-Host "emulated Mac: shmmax $(Get-Content /proc/sys/kernel/shmmax), shmall $(Get-Content /proc/sys/kernel/shmall) pages, shmmni $(Get-Content /proc/sys/kernel/shmmni), shmseg $env:MEMALLOC_TEST_SHMSEG (test-only), namespace $link"

$counts = [System.Collections.Generic.List[object]]::new()
$trx = Join-Path $ResultDir 'emulated-mac.trx'
Remove-Item -LiteralPath $trx -ErrorAction Ignore
& dotnet test (Join-Path $RepoRoot 'tests' 'Memalloc.Core.Tests') --configuration $Configuration --nologo `
    --filter 'Category!=Stress&(FullyQualifiedName~.MultiProcessTests.|FullyQualifiedName~.CrashTests.)' `
    --logger 'trx;LogFileName=emulated-mac.trx' --logger 'console;verbosity=normal' --results-directory $ResultDir | Out-Host
$xunit = if (Test-Path -LiteralPath $trx) { Get-TrxCount -Path $trx } else { [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
if ($LASTEXITCODE -ne 0 -and $xunit.Failed -eq 0) { $xunit.Failed = 1 }
$counts.Add([pscustomobject]@{ Runner = 'xunit (emulated Mac)'; Passed = $xunit.Passed; Failed = $xunit.Failed; Skipped = $xunit.Skipped; NotRun = 0 })

# The emulated Mac is about shared memory: the suites that also run on Redis run here on shared memory only.
$env:MEMALLOC_TEST_BACKENDS = 'SharedMemory'
$pesterResult = Join-Path $ResultDir 'pester-emulated-mac.json'
Remove-Item -LiteralPath $pesterResult -ErrorAction Ignore
& (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'PesterTest.ps1') -PesterPath $PesterPath `
    -TestPath (Join-Path $RepoRoot 'tests') -ResultPath $pesterResult -ExcludeTag Stress | Out-Host
$pester = if (Test-Path -LiteralPath $pesterResult) { Get-Content -LiteralPath $pesterResult -Raw | ConvertFrom-Json }
else { [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; NotRun = 0 } }
# NotRun here are the Stress tests again: the main pass already names them, so they are not counted twice.
$counts.Add([pscustomobject]@{ Runner = 'Pester (emulated Mac)'; Passed = $pester.Passed; Failed = $pester.Failed; Skipped = $pester.Skipped; NotRun = 0 })

# Everything in this namespace is the pass's own and goes with it, except POSIX arena objects: /dev/shm outlives the
# namespace, and once the anchors are gone no other namespace may judge them orphaned. Removed while they can be found.
$cleanup = @'
Import-Module Memalloc
foreach ($name in [Memalloc.Core.MemStore]::ListStoreNames()) { $null = [Memalloc.Core.MemStore]::DestroyStore($name) }
foreach ($orphans in [Memalloc.Core.MemStore]::ListOrphanedSegments()) { $null = [Memalloc.Core.MemStore]::RemoveOrphanedSegments($orphans.AnchorKey) }
'@
$env:PSModulePath = (Join-Path $RepoRoot 'out') + [IO.Path]::PathSeparator + $env:PSModulePath
& (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command $cleanup | Out-Host

$counts | ConvertTo-Json | Set-Content -LiteralPath (Join-Path $ResultDir 'emulated-mac.json')
