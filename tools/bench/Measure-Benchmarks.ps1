#Requires -Version 7.4
<#
.SYNOPSIS
Runs the benchmark suites and writes every measurement of the run to one JSON file (out/bench/results.json).

.DESCRIPTION
The suites are listed in tests/Benchmarks/Benchmarks.psd1; each runs in a fresh pwsh (tests/Benchmarks/<Name>.Bench.ps1
-ContextPath -OutPath) so that it may import the built module and a failure ends only that suite. Around them this
script records the machine, its load, the versions, and starts a private redis-server that it always stops at the end.
It measures only: installing the peers is tools/bench/BenchPeers.psm1's, the report Write-BenchmarkReport.ps1's.
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $RepoRoot,
    [Parameter(Mandatory)] [string] $ModuleDir,
    [string] $ResultsPath = (Join-Path $RepoRoot 'out' 'bench' 'results.json'),
    # Fewer iterations, rounds and processes: for working on the harness; the report says 'quick, not for judging'.
    [switch] $Quick,
    # Only these suites (names from Benchmarks.psd1); all by default. A comma-separated string works too.
    [string[]] $Suite = @(),
    # cpu (default): single-process cases time the process's CPU time (user + system, all threads), because a wall
    # clock on a shared machine also counts waiting for a core. wall: the wall clock everywhere. Cases that span
    # processes (Redis, readers, contention) always use the wall clock.
    [ValidateSet('cpu', 'wall')] [string] $Clock = 'cpu',
    # Notes from before the run for the report (a peer that would not install).
    [string[]] $Note = @()
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$RepoRoot = (Resolve-Path -LiteralPath $RepoRoot).Path
$ResultsPath = $PSCmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ResultsPath)
Import-Module (Join-Path $PSScriptRoot 'BenchPeers.psm1')
Import-Module (Join-Path $PSScriptRoot 'BenchMachine.psm1')

$benchDir = Join-Path $RepoRoot 'tests' 'Benchmarks'
$definition = Import-PowerShellDataFile -LiteralPath (Join-Path $benchDir 'Benchmarks.psd1')
$Suite = @($Suite -split ',' | ForEach-Object Trim | Where-Object { $_ })
foreach ($name in $Suite) {
    if ($name -notin $definition.Suites) { throw "No suite '$name'; the suites are $($definition.Suites -join ', ')." }
}
$suites = if ($Suite) { @($definition.Suites | Where-Object { $_ -in $Suite }) } else { @($definition.Suites) }

$outDir = Split-Path -Parent $ResultsPath
$null = New-Item -ItemType Directory -Path $outDir -Force
$ModuleDir = (Resolve-Path -LiteralPath $ModuleDir).Path
$pwsh = Join-Path $PSHOME 'pwsh'
$runClock = [System.Diagnostics.Stopwatch]::StartNew()
$notes = [System.Collections.Generic.List[string]]::new([string[]] $Note)

$peer = Get-BenchPeer
if ($peer.Php -and -not $peer.Sysvshm) { $notes.Add('php-cli was built without sysvshm (`php -m`): that peer is not measured.') }
$run = [ordered]@{
    Started        = [datetime]::UtcNow.ToString('yyyy-MM-dd HH:mm')
    Quick          = [bool] $Quick
    Clock          = $Clock
    Suites         = $suites
    LoadBefore     = Get-BenchLoadAverage
    CapacityBefore = Measure-BenchParallelCapacity
}

# What the report needs to know about the code measured; the package versions are the benchmark project's own.
$project = [xml] (Get-Content -LiteralPath (Join-Path $benchDir 'Memalloc.Benchmarks' 'Memalloc.Benchmarks.csproj') -Raw)
$package = { param($Name) $project.SelectSingleNode("//PackageReference[@Include='$Name']").Version }
$commit = (& git -C $RepoRoot rev-parse --short HEAD 2>$null) -as [string]
# The generated report itself is always about to change: only changes to code count.
$dirty = if (& git -C $RepoRoot status --porcelain -- src module tests tools 2>$null) { ', with uncommitted changes' } else { '' }
$versions = [ordered]@{
    '.NET SDK'            = (& dotnet --version) -as [string]
    '.NET runtime'        = [System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription
    PowerShell            = $PSVersionTable.PSVersion.ToString()
    BenchmarkDotNet       = & $package 'BenchmarkDotNet'
    'StackExchange.Redis' = & $package 'StackExchange.Redis'
    Memalloc              = "$(Split-Path -Leaf $ModuleDir) ($commit$dirty)"
}
foreach ($entry in (Get-BenchPeerVersion -Peer $peer).GetEnumerator()) { $versions[$entry.Key] = $entry.Value }

$measurements = [System.Collections.Generic.List[object]]::new()
$facts = [ordered]@{}
$redis = $null
try {
    if ($peer.Redis) {
        try {
            $redis = Start-BenchRedis -Directory (Join-Path $outDir 'redis')
            Write-Host "redis-server on $($redis.Endpoint)"
        }
        catch {
            $notes.Add("redis-server did not start: $($_.Exception.Message)")
        }
    }
    $contextPath = Join-Path $outDir 'context.json'
    [ordered]@{
        RepoRoot      = $RepoRoot
        ModuleDir     = $ModuleDir
        OutDir        = $outDir
        ToolsDir      = $PSScriptRoot
        Pwsh          = $pwsh
        Quick         = [bool] $Quick
        Clock         = $Clock
        RedisEndpoint = if ($redis) { $redis.Endpoint } else { $null }
        Peers         = $peer
    } | ConvertTo-Json | Set-Content -LiteralPath $contextPath -Encoding utf8NoBOM

    foreach ($name in $suites) {
        Write-Host "==> Suite $name" -ForegroundColor Cyan
        $suiteOut = Join-Path $outDir "suite-$name.json"
        Remove-Item -LiteralPath $suiteOut -ErrorAction Ignore
        $suiteClock = [System.Diagnostics.Stopwatch]::StartNew()
        & $pwsh -NoProfile -NonInteractive -File (Join-Path $benchDir "$name.Bench.ps1") -ContextPath $contextPath -OutPath $suiteOut | Out-Host
        if ($LASTEXITCODE -ne 0) { $notes.Add("Suite $name exited with code $LASTEXITCODE.") }
        $facts["$($name): minutes"] = [math]::Round($suiteClock.Elapsed.TotalMinutes, 1)
        if (-not (Test-Path -LiteralPath $suiteOut)) {
            $notes.Add("Suite $name wrote no results: its cases are not measured.")
            continue
        }
        $result = Get-Content -LiteralPath $suiteOut -Raw | ConvertFrom-Json
        foreach ($m in $result.Measurements) { $measurements.Add($m) }
        foreach ($n in $result.Notes) { $notes.Add("$($name): $n") }
        foreach ($p in $result.Facts.PSObject.Properties) { $facts["$($name): $($p.Name)"] = $p.Value }
    }
}
finally {
    Stop-BenchRedis $redis
}

$run.Minutes = $runClock.Elapsed.TotalMinutes
$run.Finished = [datetime]::UtcNow.ToString('yyyy-MM-dd HH:mm')
$run.LoadAfter = Get-BenchLoadAverage
$run.CapacityAfter = Measure-BenchParallelCapacity
[ordered]@{
    Schema       = 1
    Run          = $run
    Machine      = Get-BenchMachine
    Versions     = $versions
    Facts        = $facts
    Notes        = $notes
    Measurements = $measurements
} | ConvertTo-Json -Depth 10 | Set-Content -LiteralPath $ResultsPath -Encoding utf8NoBOM
Write-Host "==> Results: $ResultsPath ($('{0:N1}' -f $run.Minutes) min)" -ForegroundColor Cyan
