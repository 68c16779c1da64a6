#Requires -Version 7.4
<#
.SYNOPSIS
Benchmarks the cmdlets against what a script would otherwise use, side by side in one pwsh process.

.DESCRIPTION
Run in a child pwsh by tools/Invoke-Benchmarks.ps1 (a binary module cannot be unloaded, so the built module is
imported into a process of its own). For a small object (a [pscustomobject] with four properties) and a 1 MiB
byte array, one operation is a write followed by a read of:

  MemStack      Set-MemStack + Get-MemStack (the module)
  Variable      Set-Variable + Get-Variable plus a PSSerializer round trip (Serialize -Depth 2, Deserialize):
                PowerShell's own cost of what the store does, minus the sharing
  Clixml        Export-Clixml + Import-Clixml of a file on /dev/shm (tmpfs): sharing through files
  Synchronized  a [hashtable]::Synchronized in-process: no copy, no sharing, the lower limit

Each case runs a loop of N operations per block (N calibrated to about BlockMilliseconds); after WarmupRounds
rounds of every case (PowerShell compiles script blocks and .NET tiers up methods over the first seconds; with the
CPU clock that compiling would count) N is calibrated again, then the cases run in alternating blocks (the order
rotates every round) and the median block is reported in ns per operation. -Clock Cpu (the default) times this process's CPU time (user + system, all threads:
clock_gettime(CLOCK_PROCESS_CPUTIME_ID)), the clock the core and PHP benchmarks use, so that waiting for a core on a
busy machine is not counted; -Clock Wall uses the Stopwatch. Writes one JSON document to -OutPath.
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $ModuleDir,
    [Parameter(Mandatory)] [string] $OutPath,
    [int] $Rounds = 9,
    [int] $WarmupRounds = 4,
    [int] $BlockMilliseconds = 150,
    [ValidateSet('Cpu', 'Wall')] [string] $Clock = 'Cpu'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# A relative path would be taken for a module name; the working directory is pwsh's, not .NET's.
$ModuleDir = $PSCmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ModuleDir)
$store = 'bench-' + [guid]::NewGuid().ToString('N')
$clixmlPath = Join-Path '/dev/shm' "memalloc-$store.xml"
$sync = [hashtable]::Synchronized(@{})

$small = [pscustomobject]@{
    Name  = 'nightly-report'
    Count = 42
    When  = [datetime]::new(2026, 1, 2, 3, 4, 5, [DateTimeKind]::Utc)
    Done  = $true
}
$large = [byte[]]::new(1MB)
[System.Random]::new(1).NextBytes($large)
$values = [ordered]@{ Small = $small; '1MiB' = $large }

# One script block per peer; each runs $n write+read pairs of $value in the same loop shape.
$peers = [ordered]@{
    MemStack     = {
        param([int] $n, $value)
        for ($i = 0; $i -lt $n; $i++) {
            Set-MemStack -Name bench -Value $value -Store $store
            $null = Get-MemStack -Name bench -Store $store
        }
    }
    Variable     = {
        param([int] $n, $value)
        for ($i = 0; $i -lt $n; $i++) {
            Set-Variable -Name bench -Value $value
            $null = [System.Management.Automation.PSSerializer]::Deserialize(
                [System.Management.Automation.PSSerializer]::Serialize((Get-Variable -Name bench -ValueOnly), 2))
        }
    }
    Clixml       = {
        param([int] $n, $value)
        for ($i = 0; $i -lt $n; $i++) {
            Export-Clixml -InputObject $value -Path $clixmlPath -Depth 2
            $null = Import-Clixml -Path $clixmlPath
        }
    }
    Synchronized = {
        param([int] $n, $value)
        for ($i = 0; $i -lt $n; $i++) {
            $sync['bench'] = $value
            $null = $sync['bench']
        }
    }
}

Add-Type -Language CSharp -TypeDefinition @'
using System.Runtime.InteropServices;

public static class MemallocBenchClock
{
    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clockId, out TimeSpec time);

    // CLOCK_PROCESS_CPUTIME_ID (2, <linux/time.h>) in nanoseconds.
    public static long CpuNs()
    {
        TimeSpec t;
        ClockGetTime(2, out t);
        return t.Seconds * 1000000000L + t.Nanoseconds;
    }
}
'@

function Measure-Block([scriptblock] $Body, [int] $Iterations, $Value) {
    if ($Clock -eq 'Cpu') {
        $start = [MemallocBenchClock]::CpuNs()
        & $Body $Iterations $Value
        return ([MemallocBenchClock]::CpuNs() - $start) / $Iterations
    }
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    & $Body $Iterations $Value
    $watch.Stop()
    return $watch.Elapsed.TotalNanoseconds / $Iterations
}

# Iterations per block so that one block takes about $BlockMilliseconds; the calibration doubles as warm-up.
function Get-BlockSize([scriptblock] $Body, $Value) {
    # The first calls pay for compiling the script block and JIT-compiling the cmdlets: not part of a block.
    for ($i = 0; $i -lt 3; $i++) { $null = Measure-Block $Body 1 $Value }
    $n = 1
    while ($true) {
        $perOp = Measure-Block $Body $n $Value
        if ($perOp * $n -ge $BlockMilliseconds * 1e6 / 4 -or $n -ge 1e6) { break }
        $n *= 2
    }
    return [math]::Max(1, [int]($BlockMilliseconds * 1e6 / $perOp))
}

function Get-Median([double[]] $Samples) {
    $sorted = $Samples | Sort-Object
    $middle = [math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { return $sorted[$middle] }
    return ($sorted[$middle - 1] + $sorted[$middle]) / 2
}

$moduleError = $null
try {
    Import-Module (Join-Path $ModuleDir 'Memalloc.psd1')
    Set-MemStack -Name bench -Value $small -Store $store
    $back = Get-MemStack -Name bench -Store $store
    if ($back.Name -ne $small.Name -or $back.Count -ne 42) { throw "Get-MemStack returned '$back', not the object Set-MemStack wrote." }
    Set-MemStack -Name bench -Value $large -Store $store
    $back = Get-MemStack -Name bench -Store $store
    if ($back -isnot [byte[]] -or $back.Length -ne $large.Length) { throw 'Get-MemStack did not return the 1 MiB byte array.' }
}
catch {
    $moduleError = "$($_.Exception.GetType().Name): $($_.Exception.Message)"
    Write-Warning "The cmdlets are not usable; only the peers are measured: $moduleError"
    $peers.Remove('MemStack')
}

$cases = [System.Collections.Generic.List[object]]::new()
try {
    foreach ($valueName in $values.Keys) {
        foreach ($peerName in $peers.Keys) {
            $cases.Add([pscustomobject]@{
                Peer       = $peerName
                Value      = $valueName
                Iterations = 0
                Samples    = [System.Collections.Generic.List[double]]::new()
            })
        }
    }

    foreach ($case in $cases) {
        $case.Iterations = Get-BlockSize $peers[$case.Peer] $values[$case.Value]
    }

    $warm = @{}
    for ($round = 0; $round -lt $WarmupRounds; $round++) {
        foreach ($case in $cases) {
            $warm[$case] = Measure-Block $peers[$case.Peer] $case.Iterations $values[$case.Value]
        }
    }

    foreach ($case in $cases) {
        # Warm now: size the blocks from the last warm-up block, not from the cold first calls.
        $case.Iterations = [math]::Max(1, [int]($BlockMilliseconds * 1e6 / [math]::Max($warm[$case], 1)))
        Write-Host ("warm: {0,-12} {1,-5} {2,14:N0} ns/op, {3,6} per block" -f $case.Peer, $case.Value, $warm[$case], $case.Iterations)
    }

    for ($round = 0; $round -lt $Rounds; $round++) {
        # Rotate the order every round so that no case always runs right after the same neighbour.
        for ($k = 0; $k -lt $cases.Count; $k++) {
            $case = $cases[($k + $round) % $cases.Count]
            $case.Samples.Add((Measure-Block $peers[$case.Peer] $case.Iterations $values[$case.Value]))
        }
    }
}
finally {
    Remove-Item -LiteralPath $clixmlPath -ErrorAction Ignore
    if (-not $moduleError) {
        Remove-MemStore -Name $store -Force -Confirm:$false -ErrorAction SilentlyContinue
    }
}

$result = [pscustomobject]@{
    ModuleAvailable   = -not $moduleError
    ModuleError       = $moduleError
    PowerShell        = $PSVersionTable.PSVersion.ToString()
    Clock             = $Clock.ToLowerInvariant()
    Rounds            = $Rounds
    WarmupRounds      = $WarmupRounds
    BlockMilliseconds = $BlockMilliseconds
    Cases             = @($cases | ForEach-Object {
            [pscustomobject]@{
                Peer       = $_.Peer
                Value      = $_.Value
                Iterations = $_.Iterations
                MedianNs   = Get-Median $_.Samples
                SamplesNs  = @($_.Samples)
            }
        })
}
$result | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath $OutPath -Encoding utf8
foreach ($case in $result.Cases) {
    Write-Host ("{0,-12} {1,-5} median {2,14:N0} ns/op" -f $case.Peer, $case.Value, $case.MedianNs)
}
