#Requires -Version 7.4
<#
.SYNOPSIS
Suite Contention: one counter incremented by 4 workers at once, for a few seconds per round.

.DESCRIPTION
  Memalloc                 4 pwsh processes, Update-MemStack -Increment 1 (Contention.Worker.ps1)
  Clixml file + Mutex      4 pwsh processes, Import-Clixml/Export-Clixml of a file under a named Mutex (the same worker)
  [hashtable]::Synchronized  4 runspaces of this process, $h.count += 1 (in-process only; += is a read and a write)

Throughput is the workers' increments per second of wall time, summed; the median over rounds whose order rotates.
Each worker counts the increments it made; the counter's final value against that sum says whether updates were lost.
The worker processes are started, and warm, before the first round.
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
$rounds, $seconds = if ($context.Quick) { 1, 1.0 } else { 3, 3.0 }
$workers = 4
$store = 'bench-' + [guid]::NewGuid().ToString('N')
$counterPath = Join-Path ([System.IO.Path]::GetTempPath()) "memalloc-$store"
$mutexName = "memalloc-bench-$store"
Import-Module (Join-Path $context.ModuleDir 'Memalloc.psd1')

function Start-Worker([string] $Mode) {
    $info = [System.Diagnostics.ProcessStartInfo]::new($context.Pwsh)
    foreach ($a in '-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Contention.Worker.ps1'), '-Mode', $Mode,
        '-ModuleDir', $context.ModuleDir, '-Store', $store, '-Path', $counterPath, '-MutexName', $mutexName) {
        $info.ArgumentList.Add($a)
    }
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($info)
}

function Read-Line($Process) {
    $line = $Process.StandardOutput.ReadLine()
    if ($null -eq $line) { throw "Worker $($Process.Id) exited with code $(if ($Process.WaitForExit(5000)) { $Process.ExitCode })." }
    $line
}

# One round of the process workers: the same start line to all, then each worker's 'increments seconds'.
function Invoke-ProcessRound($Processes, [string] $Counter) {
    foreach ($p in $Processes) { $p.StandardInput.WriteLine("go $seconds $Counter") }
    foreach ($p in $Processes) {
        $count, $elapsed = (Read-Line $p) -split ' '
        [pscustomobject]@{ Count = [long] $count; Seconds = [double] $elapsed }
    }
}

function Invoke-RunspaceRound($Pool, [hashtable] $Table, [double] $Seconds) {
    $Table.count = 0
    $running = for ($i = 0; $i -lt $workers; $i++) {
        $ps = [powershell]::Create()
        $ps.RunspacePool = $Pool
        $null = $ps.AddScript({
                param($Table, [double] $Seconds)
                $limit = [timespan]::FromSeconds($Seconds)
                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                $count = 0
                while ($watch.Elapsed -lt $limit) { $Table.count += 1; $count++ }
                [pscustomobject]@{ Count = [long] $count; Seconds = $watch.Elapsed.TotalSeconds }
            }).AddArgument($Table).AddArgument($Seconds)
        [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
    }
    foreach ($r in $running) {
        $r.PowerShell.EndInvoke($r.Handle)
        $r.PowerShell.Dispose()
    }
}

$subjects = [ordered]@{
    Memalloc                    = @{ Workers = "$workers processes"; Mode = 'Memalloc' }
    'Clixml file + named Mutex' = @{ Workers = "$workers processes"; Mode = 'FileMutex' }
    '[hashtable]::Synchronized' = @{ Workers = "$workers runspaces"; Mode = 'Runspaces' }
}
foreach ($s in $subjects.Values) { $s.Throughput = [System.Collections.Generic.List[double]]::new(); $s.Made = 0L; $s.Final = 0L }
$notes = [System.Collections.Generic.List[string]]::new()
$processes = @()
$pool = $null
$table = [hashtable]::Synchronized(@{ count = 0 })
try {
    foreach ($s in $subjects.Values | Where-Object Mode -NE 'Runspaces') {
        $s.Processes = @(for ($i = 0; $i -lt $workers; $i++) { Start-Worker $s.Mode })
        $processes += $s.Processes
    }
    foreach ($p in $processes) { if ((Read-Line $p) -ne 'ready') { throw "Worker $($p.Id) did not start." } }
    $pool = [runspacefactory]::CreateRunspacePool($workers, $workers)
    $pool.Open()
    $null = Invoke-RunspaceRound $pool $table 0.2   # warm-up: the pool's runspaces and the loop's compilation

    $names = @($subjects.Keys)
    for ($round = 0; $round -lt $rounds; $round++) {
        for ($k = 0; $k -lt $names.Count; $k++) {
            $s = $subjects[$names[($k + $round) % $names.Count]]
            $counter = "counter-$round"
            $results = @(if ($s.Mode -eq 'Runspaces') { Invoke-RunspaceRound $pool $table $seconds } else { Invoke-ProcessRound $s.Processes $counter })
            $final = switch ($s.Mode) {
                'Memalloc' { [long] (Get-MemStack -Name $counter -Store $store) }
                'FileMutex' { [long] (Import-Clixml -LiteralPath "$counterPath.$counter") }
                'Runspaces' { [long] $table.count }
            }
            $s.Throughput.Add(($results | ForEach-Object { $_.Count / $_.Seconds } | Measure-Object -Sum).Sum)
            $s.Made += ($results | Measure-Object -Property Count -Sum).Sum
            $s.Final += $final
        }
    }
}
catch {
    $notes.Add("$($_.Exception.Message)")
}
finally {
    foreach ($p in $processes) {
        try { $p.StandardInput.WriteLine('exit') } catch [System.IO.IOException] { $null = $_ }
        if (-not $p.WaitForExit(10000)) { $p.Kill() }
        $p.Dispose()
    }
    if ($pool) { $pool.Dispose() }
    Remove-Item -Path "$counterPath.*" -ErrorAction Ignore
    Remove-MemStore -Name $store -Force -Confirm:$false -ErrorAction Ignore
}

$measurements = foreach ($name in $subjects.Keys) {
    $s = $subjects[$name]
    if ($s.Throughput.Count -eq 0) { continue }
    $key = @{ Workers = $s.Workers }
    $median = Get-BenchMedian -Samples $s.Throughput
    Write-Host ('{0,-28} {1,10:N0} increments/s; {2:N0} made, final count {3:N0}' -f $name, $median, $s.Made, $s.Final)
    New-BenchMeasurement -Suite Contention -Case Increment -Subject $name -Value $median -Unit 'op/s' -Clock wall -Key $key `
        -Detail @{ Rounds = $s.Throughput.Count; SecondsPerRound = $seconds; ThroughputSamples = @($s.Throughput) }
    New-BenchMeasurement -Suite Contention -Case 'increments made' -Subject $name -Value $s.Made -Unit count -Key $key
    New-BenchMeasurement -Suite Contention -Case 'final count' -Subject $name -Value $s.Final -Unit count -Key $key
}
Save-BenchSuiteResult -Path $OutPath -Measurements @($measurements) -Notes $notes
