#Requires -Version 7.4
<#
.SYNOPSIS
Suite Scale: random reads of 100-byte values in a store of 100 and of 1,000,000 stacks (Memalloc), and in an APCu
cache of 100 and of 1,000,000 entries, without and with huge pages for shared memory.

.DESCRIPTION
The same code runs under each setting of /sys/kernel/mm/transparent_hugepage/shmem_enabled: 'never' (no huge pages)
and 'advise' (huge pages where the mapping asks for them with madvise(MADV_HUGEPAGE)). Changing it needs root; the
old value is put back after each part (BenchMachine.psm1: Use-ShmemHugePageSetting). Without root, the suite runs
once with the machine's setting. Each row records how much shared memory the process got mapped with huge pages
(HugePagesMappedKb), so the report shows whether the setting made a difference to the mapping itself.
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $ContextPath,
    [Parameter(Mandatory)] [string] $OutPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'BenchSuite.psm1')

$context = Read-BenchContext -Path $ContextPath
Import-Module (Join-Path $context.ToolsDir 'BenchMachine.psm1')
$notes = [System.Collections.Generic.List[string]]::new()
$facts = [ordered]@{ 'shmem_enabled before the suite' = Get-ShmemHugePageSetting }

# APCu needs a hash table sized for a million entries (apc.entries_hint), as the store's index is.
$apcuSettings = @('apc.enable_cli=1', 'apc.shm_size=768M', 'apc.entries_hint=1048576')

function Measure-Scale([string] $HugePages) {
    Write-Host "Scale, shmem_enabled = $HugePages"
    $result = Invoke-BenchDotNet -Context $context -Groups 'scale' -LogName "scale-$HugePages" -Notes $notes
    foreach ($b in $result.Benchmarks) {
        $case = if ($b.Method -eq 'GetHot') { 'GetHot' } else { 'GetRandom' }
        New-BenchMeasurement -Suite Scale -Case $case -Subject Memalloc -Value $b.MedianNs -Unit ns -Clock $b.Clock `
            -Key @{ Stacks = $b.Value; HugePages = $HugePages } `
            -Detail @{ HugePagesMappedKb = $result.Facts."HugePagesMappedKb.$($b.Value)"; AllocatedBytes = $b.AllocatedBytes }
    }
    if (-not $context.Peers.Apcu) { return }
    $apcu = Invoke-BenchPhp -Context $context -Peer 'apcu-scale' -Settings $apcuSettings -Notes $notes
    foreach ($r in @($apcu | Where-Object { $_ } | ForEach-Object results)) {
        New-BenchMeasurement -Suite Scale -Case GetRandom -Subject APCu -Value $r.medianNs -Unit ns -Clock $context.Clock `
            -Key @{ Stacks = [long] $r.stacks; HugePages = $HugePages } -Detail @{ HugePagesMappedKb = $apcu.facts."HugePagesMappedKb.$($r.stacks)" }
    }
}

if (-not $context.Peers.Apcu) { $notes.Add('APCu is not installed: its random reads are not measured.') }
$measurements = if (Test-ShmemHugePageSettable) {
    foreach ($setting in 'never', 'advise') {
        Use-ShmemHugePageSetting -Value $setting -ScriptBlock { Measure-Scale $setting }
    }
}
else {
    $current = Get-ShmemHugePageSetting
    $notes.Add("shmem_enabled could not be changed (not root, or no transparent huge pages): the scale suite ran once, with '$current'.")
    Measure-Scale $(if ($current) { $current } else { 'n/a' })
}
$facts['shmem_enabled after the suite'] = Get-ShmemHugePageSetting
Save-BenchSuiteResult -Path $OutPath -Measurements @($measurements) -Notes $notes -Facts $facts
