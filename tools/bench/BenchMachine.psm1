#Requires -Version 7.4
<#
The machine a benchmark run measures on: what it is, how busy it is, and the one kernel setting a suite changes
(huge pages for shared memory), always put back.
#>

Set-StrictMode -Version Latest

$script:ShmemEnabledPath = '/sys/kernel/mm/transparent_hugepage/shmem_enabled'

function Get-BenchMachine {
    [CmdletBinding()]
    param ()
    $cpu = Get-Content -LiteralPath '/proc/cpuinfo' | Where-Object { $_ -like 'model name*' } | Select-Object -First 1
    $memoryKb = [double] ((Get-Content -LiteralPath '/proc/meminfo' -TotalCount 1) -replace '\D', '')
    $hugePages = '/proc/sys/vm/nr_hugepages'
    [ordered]@{
        CPU                                  = if ($cpu) { ($cpu -split ':', 2)[1].Trim() } else { 'unknown' }
        Cores                                = [Environment]::ProcessorCount
        Kernel                               = (& uname -r)
        Memory                               = '{0:N1} GiB' -f ($memoryKb / 1MB)
        'transparent huge pages for shmem'   = Get-ShmemHugePageSetting
        'vm.nr_hugepages (for SHM_HUGETLB)'  = if (Test-Path -LiteralPath $hugePages) { (Get-Content -LiteralPath $hugePages -Raw).Trim() } else { 'n/a' }
    }
}

function Get-BenchLoadAverage {
    [CmdletBinding()]
    param ()
    [double] ((Get-Content -LiteralPath '/proc/loadavg' -Raw) -split ' ')[0]
}

# How many cores two CPU-bound processes actually get right now (2.0 on an idle 2-core machine): the reader-scaling
# target needs two, and a machine busy with other work may not give them.
function Measure-BenchParallelCapacity {
    [CmdletBinding()]
    param ([ValidateRange(1, 10)] [int] $Seconds = 2)
    $output = & bash -c "for i in 1 2; do timeout $Seconds sh -c 'while :; do :; done' & done; wait; times" 2>$null
    $children = @($output)[-1]
    if ($children -notmatch '^(\d+)m([\d.]+)s (\d+)m([\d.]+)s') { return $null }
    $cpu = [double] $Matches[1] * 60 + [double] $Matches[2] + [double] $Matches[3] * 60 + [double] $Matches[4]
    return $cpu / $Seconds
}

# The selected value of shmem_enabled ('always within_size advise [never] deny force' gives 'never'), or $null
# where there is no such file (no THP, or not Linux).
function Get-ShmemHugePageSetting {
    [CmdletBinding()]
    param ([string] $Path = $script:ShmemEnabledPath)
    if (-not (Test-Path -LiteralPath $Path)) { return $null }
    $text = Get-Content -LiteralPath $Path -Raw
    if ($text -match '\[(\S+)\]') { return $Matches[1] }
    return $text.Trim()
}

# Whether this process may change shmem_enabled (root, and a writable sysfs).
function Test-ShmemHugePageSettable {
    [CmdletBinding()]
    param ([string] $Path = $script:ShmemEnabledPath)
    if (-not (Test-Path -LiteralPath $Path)) { return $false }
    try {
        $stream = [System.IO.File]::Open($Path, 'Open', 'Write')
        $stream.Dispose()
        return $true
    }
    catch [System.UnauthorizedAccessException], [System.IO.IOException] {
        return $false
    }
}

# Runs $ScriptBlock with shmem_enabled set to $Value and puts the old value back afterwards, whatever happens
# (an exception, Ctrl+C). The setting is machine-wide: it is changed for as short a time as the block takes.
function Use-ShmemHugePageSetting {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory)] [ValidateSet('always', 'within_size', 'advise', 'never')] [string] $Value,
        [Parameter(Mandatory)] [scriptblock] $ScriptBlock,
        [string] $Path = $script:ShmemEnabledPath
    )
    $old = Get-ShmemHugePageSetting -Path $Path
    if ($null -eq $old) { throw "There is no $Path on this machine." }
    try {
        [System.IO.File]::WriteAllText($Path, $Value)
        $now = Get-ShmemHugePageSetting -Path $Path
        if ($now -ne $Value) { throw "Writing '$Value' to $Path left it at '$now'." }
        & $ScriptBlock
    }
    finally {
        [System.IO.File]::WriteAllText($Path, $old)
    }
}

Export-ModuleMember -Function Get-BenchMachine, Get-BenchLoadAverage, Measure-BenchParallelCapacity,
    Get-ShmemHugePageSetting, Test-ShmemHugePageSettable, Use-ShmemHugePageSetting
