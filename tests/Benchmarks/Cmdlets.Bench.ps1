#Requires -Version 7.4
<#
.SYNOPSIS
Suite Cmdlets: Set-MemStack and Get-MemStack against what a script would otherwise use, in one pwsh process.

.DESCRIPTION
Runs in a pwsh of its own (a binary module cannot be unloaded) and imports the built module. Cases:

  Set+Get of a small object ([pscustomobject], four properties): Memalloc (Set-MemStack + Get-MemStack) beside
    Set/Get-Variable plus a PSSerializer round trip, Export/Import-Clixml of a file on /dev/shm, and a
    [hashtable]::Synchronized (no copy, no sharing);
  Get of a 1 MiB string and of an array of 10,000 small objects: Get-MemStack beside PSSerializer.Deserialize of the
    same CliXml from a string already in memory;
  Set of the same: Set-MemStack beside PSSerializer.Serialize (depth 2, the cmdlet's default) plus UTF-8 encoding.

Each case runs a loop of N operations per block (N calibrated to about 150 ms); after warm-up rounds of every case
(PowerShell compiles script blocks and .NET tiers up methods over the first seconds) N is calibrated again, then the
cases run in blocks, in a new random order every round, and the median block is the result, in ns per operation.
Every block starts after a full garbage collection: the process's CPU time counts the GC's threads, and one case's
garbage must not be collected on the next case's time.
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
# A block is at least $minOps operations: a median of single 100 ms operations is too much at the mercy of the GC.
$rounds, $warmupRounds, $blockMs, $minOps = if ($context.Quick) { 3, 1, 60, 1 } else { 9, 4, 150, 3 }
$store = 'bench-' + [guid]::NewGuid().ToString('N')
$clixmlPath = Join-Path '/dev/shm' "memalloc-$store.xml"
$sync = [hashtable]::Synchronized(@{})
$depth = 2

$small = [pscustomobject]@{
    Name  = 'nightly-report'
    Count = 42
    When  = [datetime]::new(2026, 1, 2, 3, 4, 5, [DateTimeKind]::Utc)
    Done  = $true
}
$data = [ordered]@{
    'small object'   = $small
    '1 MiB string'   = ('lorem ipsum dolor sit amet, ' * 37450).Substring(0, 1MB)
    '10,000 objects' = @(for ($i = 0; $i -lt 10000; $i++) {
            [pscustomobject]@{ Name = "item-$i"; Count = $i; When = $small.When.AddSeconds($i); Done = ($i % 2) -eq 0 }
        })
}

# Each case's body runs $n operations on $in (Value, Xml: the value's CliXml, Name: its stack).
$cases = @(
    @{ Case = 'Set+Get'; Data = 'small object'; Subject = 'Memalloc'; Body = {
            param([int] $n, $in)
            for ($i = 0; $i -lt $n; $i++) { Set-MemStack -Name $in.Name -Value $in.Value -Store $store; $null = Get-MemStack -Name $in.Name -Store $store }
        }
    }
    @{ Case = 'Set+Get'; Data = 'small object'; Subject = 'Set/Get-Variable + PSSerializer'; Body = {
            param([int] $n, $in)
            for ($i = 0; $i -lt $n; $i++) {
                Set-Variable -Name bench -Value $in.Value
                $null = [System.Management.Automation.PSSerializer]::Deserialize(
                    [System.Management.Automation.PSSerializer]::Serialize((Get-Variable -Name bench -ValueOnly), $depth))
            }
        }
    }
    @{ Case = 'Set+Get'; Data = 'small object'; Subject = 'Export/Import-Clixml (/dev/shm)'; Body = {
            param([int] $n, $in)
            for ($i = 0; $i -lt $n; $i++) { Export-Clixml -InputObject $in.Value -Path $clixmlPath -Depth $depth; $null = Import-Clixml -Path $clixmlPath }
        }
    }
    @{ Case = 'Set+Get'; Data = 'small object'; Subject = '[hashtable]::Synchronized'; Body = {
            param([int] $n, $in)
            for ($i = 0; $i -lt $n; $i++) { $sync['bench'] = $in.Value; $null = $sync['bench'] }
        }
    }
    foreach ($name in '1 MiB string', '10,000 objects') {
        @{ Case = 'Get'; Data = $name; Subject = 'Memalloc'; Body = {
                param([int] $n, $in)
                for ($i = 0; $i -lt $n; $i++) { $null = Get-MemStack -Name $in.Name -Store $store }
            }
        }
        @{ Case = 'Get'; Data = $name; Subject = 'PSSerializer'; Body = {
                param([int] $n, $in)
                for ($i = 0; $i -lt $n; $i++) { $null = [System.Management.Automation.PSSerializer]::Deserialize($in.Xml) }
            }
        }
        @{ Case = 'Set'; Data = $name; Subject = 'Memalloc'; Body = {
                param([int] $n, $in)
                for ($i = 0; $i -lt $n; $i++) { Set-MemStack -Name $in.Name -Value $in.Value -Store $store }
            }
        }
        @{ Case = 'Set'; Data = $name; Subject = 'PSSerializer'; Body = {
                param([int] $n, $in)
                for ($i = 0; $i -lt $n; $i++) {
                    $null = [System.Text.Encoding]::UTF8.GetBytes([System.Management.Automation.PSSerializer]::Serialize($in.Value, $depth))
                }
            }
        }
    }
)

function Measure-Block([scriptblock] $Body, [int] $Iterations, $In) {
    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
    [GC]::Collect()
    if ($context.Clock -eq 'cpu') {
        $start = Get-BenchCpuNs
        & $Body $Iterations $In
        return ((Get-BenchCpuNs) - $start) / $Iterations
    }
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    & $Body $Iterations $In
    return $watch.Elapsed.TotalNanoseconds / $Iterations
}

# Operations per block so that one block takes about $blockMs; the calibration doubles as warm-up.
function Get-BlockSize([scriptblock] $Body, $In) {
    # The first calls pay for compiling the script block and JIT-compiling the cmdlets: not part of a block.
    for ($i = 0; $i -lt 3; $i++) { $null = Measure-Block $Body 1 $In }
    $n = 1
    while ($true) {
        $perOp = [math]::Max((Measure-Block $Body $n $In), 1)
        if ($perOp * $n -ge $blockMs * 1e6 / 4 -or $n -ge 1e6) { break }
        $n *= 2
    }
    [math]::Max($minOps, [int]($blockMs * 1e6 / $perOp))
}

$notes = [System.Collections.Generic.List[string]]::new()
$measurements = [System.Collections.Generic.List[object]]::new()
try {
    Import-Module (Join-Path $context.ModuleDir 'Memalloc.psd1')
    foreach ($case in $cases) {
        $case.In = @{
            Value = $data[$case.Data]
            Xml   = [System.Management.Automation.PSSerializer]::Serialize($data[$case.Data], $depth)
            Name  = "$($case.Case)-$($case.Data)"
        }
        $case.Samples = [System.Collections.Generic.List[double]]::new()
        if ($case.Subject -eq 'Memalloc') {
            # Gets read what is there; the check also proves the cmdlets work before anything is timed.
            Set-MemStack -Name $case.In.Name -Value $case.In.Value -Store $store
            # What comes back is what Import-Clixml gives: compare it with the deserialised CliXml, both serialised again.
            $expected = [System.Management.Automation.PSSerializer]::Deserialize($case.In.Xml)
            $back = Get-MemStack -Name $case.In.Name -Store $store
            if ([System.Management.Automation.PSSerializer]::Serialize($back, $depth) -cne [System.Management.Automation.PSSerializer]::Serialize($expected, $depth)) {
                throw "Get-MemStack did not return the $($case.Data) that Set-MemStack wrote."
            }
        }
    }

    foreach ($case in $cases) { $case.Iterations = Get-BlockSize $case.Body $case.In }
    for ($round = 0; $round -lt $warmupRounds; $round++) {
        foreach ($case in $cases) { $case.Warm = Measure-Block $case.Body $case.Iterations $case.In }
    }
    foreach ($case in $cases) {
        # Warm now: size the blocks from the last warm-up block, not from the cold first calls.
        $case.Iterations = [math]::Max($minOps, [int]($blockMs * 1e6 / [math]::Max($case.Warm, 1)))
    }
    # A new order every round (the same every run), so that no case always runs beside the same neighbours.
    $random = [System.Random]::new(15)
    for ($round = 0; $round -lt $rounds; $round++) {
        foreach ($case in ($cases | Sort-Object { $random.Next() })) {
            $case.Samples.Add((Measure-Block $case.Body $case.Iterations $case.In))
        }
    }
    foreach ($case in $cases) {
        $median = Get-BenchMedian -Samples $case.Samples
        Write-Host ('{0,-8} {1,-15} {2,-34} {3,14:N0} ns/op' -f $case.Case, $case.Data, $case.Subject, $median)
        $measurements.Add((New-BenchMeasurement -Suite Cmdlets -Case $case.Case -Subject $case.Subject -Value $median -Unit ns `
                    -Clock $context.Clock -Key @{ Data = $case.Data } -Detail @{ Iterations = $case.Iterations; SamplesNs = @($case.Samples) }))
    }
}
catch {
    $notes.Add("$($_.Exception.GetType().Name): $($_.Exception.Message)")
}
finally {
    Remove-Item -LiteralPath $clixmlPath -ErrorAction Ignore
    if (Get-Command Remove-MemStore -ErrorAction Ignore) {
        Remove-MemStore -Name $store -Force -Confirm:$false -ErrorAction SilentlyContinue
    }
}
Save-BenchSuiteResult -Path $OutPath -Measurements $measurements -Notes $notes
