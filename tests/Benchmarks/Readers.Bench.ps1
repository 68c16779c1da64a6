#Requires -Version 7.4
<#
.SYNOPSIS
Suite Readers: reads per second of one and of two reader processes over the same 1 KiB stack.

.DESCRIPTION
Memalloc.Benchmarks' readers group (ReaderThroughput): two warm reader processes serve the one-reader and the
two-reader rounds alternately; wall clock, medians. How many cores two busy processes get right before and after is
recorded too: the ratio needs two idle cores.
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
$rounds = if ($context.Quick) { 3 } else { 7 }

$coresBefore = Measure-BenchParallelCapacity
$result = Invoke-BenchDotNet -Context $context -Groups 'readers' -Arguments '--reader-rounds', "$rounds" -LogName 'readers' -Notes $notes
$coresAfter = Measure-BenchParallelCapacity

$measurements = if ($result.Readers) {
    $r = $result.Readers
    foreach ($readers in 1, 2) {
        $prefix = if ($readers -eq 1) { 'OneReader' } else { 'TwoReaders' }
        New-BenchMeasurement -Suite Readers -Case 'Get 1 KiB' -Subject Memalloc -Value $r."$($prefix)OpsPerSecond" -Unit 'op/s' `
            -Clock wall -Key @{ Readers = $readers } -Detail @{
            CoresUsed        = $r."$($prefix)Cores"
            OpsPerCpuSecond  = $r."$($prefix)OpsPerCpuSecond"
            Rounds           = @($r.Rounds | Where-Object Readers -EQ $readers).Count
            WindowSeconds    = $r.WindowSeconds
        }
    }
}
Save-BenchSuiteResult -Path $OutPath -Measurements @($measurements) -Notes $notes -Facts ([ordered]@{
        'cores two busy processes got before the readers' = $coresBefore
        'cores two busy processes got after the readers'  = $coresAfter
    })
