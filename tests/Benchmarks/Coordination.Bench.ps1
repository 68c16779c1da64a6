#Requires -Version 7.4
<#
.SYNOPSIS
Suite Coordination (issue 13): wake latency across processes, named locks, queues, and the cost of a registered waiter.

.DESCRIPTION
  wake latency         a write in one process to the return of a wait in another (median and 99th percentile; the
                       pong process reads the monotonic clock as its wait returns), Memalloc.Benchmarks wake-latency
  lock, uncontended    acquire + release in one process: the store's named lock, a named Mutex, flock(2) on a file
  lock, 4 processes    4 processes taking and giving back one lock for a few seconds: wall time per acquisition
  queue send+receive   one 16-byte item sent and received: the store's queue, a Redis list (LPUSH + RPOP) on loopback
  queue by length     one 16-byte item sent and received on a queue holding 10 and 100,000 items (O(1) in the length)
  lock waiter CPU      the CPU time a process waiting 10 s for a held lock uses (its 50 ms liveness checks)
  write, no waiter / write, waiter registered
                       a 16-byte Set, and the same with a waiter asleep on the write's wait bucket (one wake call)
The in-process cases run under BenchmarkDotNet (group 'coordination', wall clock).
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
Import-Module (Join-Path $context.ModuleDir 'Memalloc.psd1')
$notes = [System.Collections.Generic.List[string]]::new()
$arguments = @()
if ($context.RedisEndpoint) { $arguments += @('--redis', $context.RedisEndpoint) }
else { $notes.Add('No redis-server in this run: the Redis list is not measured.') }
$result = Invoke-BenchDotNet -Context $context -Groups @('coordination') -Arguments $arguments -LogName 'coordination' -Notes $notes
$binary = Join-Path $context.OutDir 'bin' 'Memalloc.Benchmarks'

$cases = @{
    LockRelease     = 'lock, uncontended', 'Memalloc'
    NamedMutex      = 'lock, uncontended', 'named Mutex'
    Flock           = 'lock, uncontended', 'flock'
    SendReceive     = 'queue send+receive', 'Memalloc'
    WriteNoWaiter   = 'write', 'no waiter'
    WriteWithWaiter = 'write', 'waiter registered'
}
$measurements = [System.Collections.Generic.List[object]]::new()
foreach ($b in $result.Benchmarks) {
    if ($b.Group -eq 'QueueDepth') {
        $measurements.Add((New-BenchMeasurement -Suite Coordination -Case 'queue send+receive by length' -Subject Memalloc -Value $b.MedianNs `
                    -Unit ns -Clock $b.Clock -Key @{ Items = $b.Value } -Detail @{ MeanNs = $b.MeanNs; StdDevNs = $b.StdDevNs }))
        continue
    }

    $case, $subject = if ($b.Group -eq 'RedisQueue') { 'queue send+receive', 'Redis list' } else { $cases[$b.Method] }
    if (-not $case) { continue }
    $measurements.Add((New-BenchMeasurement -Suite Coordination -Case $case -Subject $subject -Value $b.MedianNs -Unit ns -Clock $b.Clock `
                -Detail @{ MeanNs = $b.MeanNs; StdDevNs = $b.StdDevNs }))
}

# Wake latency: one process writes, another returns from its wait.
$rounds = if ($context.Quick) { 200 } else { 2000 }
$latencies = [double[]] @(& $binary wake-latency ('bench-' + [guid]::NewGuid().ToString('N')) $rounds | ForEach-Object { [double] $_ })
if ($LASTEXITCODE -ne 0 -or $latencies.Count -ne $rounds) { $notes.Add("wake-latency exited with code $LASTEXITCODE after $($latencies.Count) of $rounds rounds.") }
foreach ($percentile in 50, 99) {
    $measurements.Add((New-BenchMeasurement -Suite Coordination -Case 'wake latency' -Subject Memalloc -Value (Get-BenchPercentile -Samples $latencies -Percent $percentile) `
                -Unit ns -Clock wall -Key @{ Percentile = $percentile }))
}

# The CPU a process waiting 10 s for a held lock uses (issue 13: under 10 ms).
$waitSeconds = if ($context.Quick) { 2 } else { 10 }
$cpuNs = [double] (& $binary lock-waiter-cpu ('bench-' + [guid]::NewGuid().ToString('N')) $waitSeconds)
$measurements.Add((New-BenchMeasurement -Suite Coordination -Case 'lock waiter CPU per 10 s' -Subject Memalloc -Value ($cpuNs * 10 / $waitSeconds) -Unit ns -Clock cpu))

# 4 processes on one lock, for each kind of lock.
$seconds = if ($context.Quick) { 1 } else { 3 }
foreach ($mode in 'memalloc', 'mutex', 'flock') {
    $store = 'bench-' + [guid]::NewGuid().ToString('N')
    $workers = foreach ($i in 1..4) {
        $info = [System.Diagnostics.ProcessStartInfo]::new($binary)
        foreach ($a in 'lock-worker', $store, $mode, "$seconds") { $info.ArgumentList.Add($a) }
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $info.UseShellExecute = $false
        [System.Diagnostics.Process]::Start($info)
    }
    try {
        foreach ($w in $workers) { if ($w.StandardOutput.ReadLine() -ne 'ready') { throw "lock-worker $mode did not start" } }
        foreach ($w in $workers) { $w.StandardInput.WriteLine('go') }
        $total = 0L
        foreach ($w in $workers) { $total += [long] $w.StandardOutput.ReadLine() }
        $subject = @{ memalloc = 'Memalloc'; mutex = 'named Mutex'; flock = 'flock' }[$mode]
        $measurements.Add((New-BenchMeasurement -Suite Coordination -Case 'lock, 4 processes' -Subject $subject -Value ($seconds * 1e9 / [math]::Max(1, $total)) `
                    -Unit ns -Clock wall -Detail @{ Acquisitions = $total }))
    }
    finally {
        foreach ($w in $workers) { if (-not $w.WaitForExit(10000)) { $w.Kill() } }
        Remove-MemStore -Name $store -Force -Confirm:$false -ErrorAction Ignore # every worker opens it
        Remove-Item -LiteralPath (Join-Path ([System.IO.Path]::GetTempPath()) "memalloc-$store.lock") -ErrorAction Ignore
    }
}

Save-BenchSuiteResult -Path $OutPath -Measurements @($measurements) -Notes $notes
