#Requires -Version 7.4
<#
.SYNOPSIS
Suite Core: the store's Set, Get, Set+Get and CopyValue at every value size, beside the in-process limits
(Buffer.MemoryCopy, ConcurrentDictionary, allocating a copy, hashing) and Redis over loopback.

.DESCRIPTION
BenchmarkDotNet (tests/Benchmarks/Memalloc.Benchmarks: CoreBenchmarks, BaselineBenchmarks, RedisBenchmarks). The
single-process cases run on the run's clock; Redis (a round trip to another process) on the wall clock.
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
$notes = [System.Collections.Generic.List[string]]::new()
$arguments = @()
$groups = @('core', 'baseline')
if ($context.RedisEndpoint) {
    $groups += 'redis'
    $arguments += @('--redis', $context.RedisEndpoint)
}
else {
    $notes.Add('No redis-server in this run (not installed, or it did not start): Redis is not measured.')
}
$result = Invoke-BenchDotNet -Context $context -Groups $groups -Arguments $arguments -LogName 'core' -Notes $notes

# Who does the work, by benchmark class; the baselines name their subject per method.
$subjects = @{ Core = 'Memalloc'; Redis = 'Redis' }
$baselines = @{
    MemoryCopy       = 'Buffer.MemoryCopy', 'Copy'
    CopyToNewArray   = 'Span.ToArray', 'Copy'
    DictionaryGet    = 'ConcurrentDictionary', 'Get'
    DictionarySetGet = 'ConcurrentDictionary', 'SetGet'
    XxHash3Value     = 'XxHash3', 'Hash'
    CopyThenHash     = 'copy, then XxHash3', 'CopyHash'
}
$measurements = foreach ($b in $result.Benchmarks) {
    $subject, $case = if ($b.Group -eq 'Baseline' -and $baselines.ContainsKey($b.Method)) { $baselines[$b.Method] }
    elseif ($subjects.ContainsKey($b.Group)) { $subjects[$b.Group], $b.Method }
    else { $b.Group, $b.Method }
    New-BenchMeasurement -Suite Core -Case $case -Subject $subject -Value $b.MedianNs -Unit ns -Clock $b.Clock `
        -Key @{ Size = $b.Value } -Detail @{ MeanNs = $b.MeanNs; StdDevNs = $b.StdDevNs; AllocatedBytes = $b.AllocatedBytes }
}
Save-BenchSuiteResult -Path $OutPath -Measurements @($measurements) -Notes $notes
