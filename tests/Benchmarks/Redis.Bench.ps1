#Requires -Version 7.4
<#
.SYNOPSIS
Suite Redis: the cmdlets on a Redis store beside the same work done directly from pwsh, and 4-process increments.

.DESCRIPTION
Uses the harness's private redis-server ($context.RedisEndpoint); without one the suite measures nothing and says so.

  Set+Get of a small object: Set-MemStack + Get-MemStack on a registered store (one Lua script, one HMGET, a signature
    each way) beside the floor of the same work from pwsh: StringSet + StringGet through StackExchange.Redis (the same
    client, the module's copy, on a connection of its own) plus a PSSerializer round trip at depth 2; and the same
    cmdlets on a shared-memory store, the cmdlet layer's own share.
  Increment, 4 processes: Update-MemStack -Increment 1 on one counter from 4 pwsh processes (Contention.Worker.ps1),
    increments per second of wall time, summed; the final count says whether updates were lost.

Blocks, calibration and medians as in Cmdlets.Bench.ps1, on the wall clock: a round trip's time is spent waiting.
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
$rounds, $blockMs, $seconds = if ($context.Quick) { 3, 60, 1.0 } else { 9, 150, 3.0 }
$store = 'bench-' + [guid]::NewGuid().ToString('N').Substring(0, 12)
$local = "$store-local"
$depth = 2
$notes = [System.Collections.Generic.List[string]]::new()
$measurements = [System.Collections.Generic.List[object]]::new()
if (-not $context.RedisEndpoint) {
    Save-BenchSuiteResult -Path $OutPath -Measurements @() -Notes @('No redis-server in this run: the Redis suite measured nothing.')
    return
}

# Registrations of this run only; the workers inherit it.
$env:XDG_CONFIG_HOME = Join-Path ([System.IO.Path]::GetTempPath()) "memalloc-bench-$PID"
$small = [pscustomobject]@{ Name = 'nightly-report'; Count = 42; When = [datetime]::new(2026, 1, 2, 3, 4, 5, [DateTimeKind]::Utc); Done = $true }

function Measure-Block([scriptblock] $Body, [int] $Iterations) {
    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    & $Body $Iterations
    $watch.Elapsed.TotalNanoseconds / $Iterations
}

$workers = @()
try {
    Import-Module (Join-Path $context.ModuleDir 'Memalloc.psd1')
    Register-MemStore -Name $store -Redis $context.RedisEndpoint 6>$null
    Set-MemStack -Name small -Value $small -Store $store   # loads the backend: its StackExchange.Redis is the floor's too
    $back = Get-MemStack -Name small -Store $store
    if ($back.Count -ne 42) { throw 'Get-MemStack did not return what Set-MemStack wrote.' }

    $client = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'StackExchange.Redis' }
    $multiplexer = $client.GetType('StackExchange.Redis.ConnectionMultiplexer')::Connect($context.RedisEndpoint)
    $database = $multiplexer.GetDatabase()
    $floorKey = "bench-floor-$store"

    $cases = @(
        @{ Subject = 'Memalloc'; Body = {
                param([int] $n)
                for ($i = 0; $i -lt $n; $i++) { Set-MemStack -Name small -Value $small -Store $store; $null = Get-MemStack -Name small -Store $store }
            }
        }
        # The same cmdlets on a shared-memory store: what the cmdlet layer itself costs (binding, CliXml, the store's
        # lookup), so that the report tells the round trips apart from PowerShell's own share.
        @{ Subject = 'Memalloc, shared memory'; Body = {
                param([int] $n)
                for ($i = 0; $i -lt $n; $i++) { Set-MemStack -Name small -Value $small -Store $local; $null = Get-MemStack -Name small -Store $local }
            }
        }
        @{ Subject = 'StackExchange.Redis + PSSerializer'; Body = {
                param([int] $n)
                for ($i = 0; $i -lt $n; $i++) {
                    $null = $database.StringSet($floorKey, [System.Management.Automation.PSSerializer]::Serialize($small, $depth))
                    $null = [System.Management.Automation.PSSerializer]::Deserialize($database.StringGet($floorKey).ToString())
                }
            }
        }
    )
    foreach ($case in $cases) {
        for ($i = 0; $i -lt 3; $i++) { $null = Measure-Block $case.Body 20 }
        $case.Iterations = [math]::Max(3, [int]($blockMs * 1e6 / [math]::Max((Measure-Block $case.Body 50), 1)))
        $case.Samples = [System.Collections.Generic.List[double]]::new()
    }
    $random = [System.Random]::new(16)
    for ($round = 0; $round -lt $rounds; $round++) {
        foreach ($case in ($cases | Sort-Object { $random.Next() })) { $case.Samples.Add((Measure-Block $case.Body $case.Iterations)) }
    }
    foreach ($case in $cases) {
        $median = Get-BenchMedian -Samples $case.Samples
        Write-Host ('Set+Get small object  {0,-36} {1,12:N0} ns/op' -f $case.Subject, $median)
        $measurements.Add((New-BenchMeasurement -Suite Redis -Case 'Set+Get' -Subject $case.Subject -Value $median -Unit ns -Clock wall `
                    -Key @{ Data = 'small object' } -Detail @{ Iterations = $case.Iterations; SamplesNs = @($case.Samples) }))
    }
    $multiplexer.Dispose()

    # 4 worker processes on one counter of the Redis store.
    $workers = @(for ($w = 0; $w -lt 4; $w++) {
            $info = [System.Diagnostics.ProcessStartInfo]::new($context.Pwsh)
            foreach ($a in '-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Contention.Worker.ps1'), '-Mode', 'Memalloc',
                '-ModuleDir', $context.ModuleDir, '-Store', $store, '-Path', '/nonexistent', '-MutexName', 'unused') { $info.ArgumentList.Add($a) }
            $info.RedirectStandardInput = $true
            $info.RedirectStandardOutput = $true
            [System.Diagnostics.Process]::Start($info)
        })
    foreach ($p in $workers) { if ($p.StandardOutput.ReadLine() -ne 'ready') { throw "Worker $($p.Id) did not start." } }
    $throughputs = [System.Collections.Generic.List[double]]::new()
    $made = 0L
    for ($round = 0; $round -lt [math]::Max(1, $rounds / 3); $round++) {
        foreach ($p in $workers) { $p.StandardInput.WriteLine("go $seconds counter") }
        $results = foreach ($p in $workers) { $count, $elapsed = $p.StandardOutput.ReadLine() -split ' '; [pscustomobject]@{ Count = [long] $count; Seconds = [double] $elapsed } }
        $made += ($results | Measure-Object Count -Sum).Sum
        $throughputs.Add(($results | Measure-Object Count -Sum).Sum / ($results | Measure-Object Seconds -Maximum).Maximum)
    }
    $final = Get-MemStack -Name counter -Store $store
    $rate = Get-BenchMedian -Samples $throughputs
    Write-Host ('Increment, 4 processes: {0:N0} op/s; counter {1} for {2} increments' -f $rate, $final, $made)
    $measurements.Add((New-BenchMeasurement -Suite Redis -Case 'Increment, 4 processes' -Subject 'Memalloc' -Value $rate -Unit 'op/s' -Clock wall `
                -Key @{ Workers = 4 } -Detail @{ Increments = $made; Counter = $final; Lost = $made - $final }))
}
catch {
    $notes.Add("$($_.Exception.GetType().Name): $($_.Exception.Message)")
}
finally {
    foreach ($p in $workers) { try { $p.StandardInput.WriteLine('exit'); $null = $p.WaitForExit(10000) } catch { $p.Kill() } }
    if (Get-Command Remove-MemStore -ErrorAction Ignore) {
        Remove-MemStore -Name $store, $local -Force -Confirm:$false -ErrorAction SilentlyContinue
        Unregister-MemStore -Name $store -ErrorAction SilentlyContinue
    }
    Remove-Item -LiteralPath $env:XDG_CONFIG_HOME -Recurse -Force -ErrorAction Ignore
}
Save-BenchSuiteResult -Path $OutPath -Measurements $measurements -Notes $notes
