#Requires -Version 7.4
<#
.SYNOPSIS
The Bench task (build.ps1 -Task Bench): installs the peers, measures, and writes docs/benchmarks.md with its charts.

.DESCRIPTION
Three parts, each of its own file under tools/bench/:
  1. BenchPeers.psm1: php-cli, php-apcu and redis-server from Debian when missing;
  2. Measure-Benchmarks.ps1: the suites of tests/Benchmarks/Benchmarks.psd1, beside a private redis-server, into
     out/bench/results.json;
  3. Write-BenchmarkReport.ps1: docs/benchmarks.md and docs/benchmarks-*.svg from that file alone.
MEMALLOC_BENCH_QUICK=1 (or -Quick) runs fewer iterations, rounds and processes, for working on the harness; the
report then says 'quick, not for judging'.
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $RepoRoot,
    [Parameter(Mandatory)] [string] $ModuleDir,
    [string] $ReportPath = (Join-Path $RepoRoot 'docs' 'benchmarks.md'),
    [switch] $Quick,
    # Only these suites (for working on one; the report then shows the others as not measured).
    [string[]] $Suite = @(),
    [ValidateSet('cpu', 'wall')] [string] $Clock = 'cpu'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$RepoRoot = (Resolve-Path -LiteralPath $RepoRoot).Path

$bench = Join-Path $PSScriptRoot 'bench'
$resultsPath = Join-Path $RepoRoot 'out' 'bench' 'results.json'
$quickRun = $Quick -or $env:MEMALLOC_BENCH_QUICK -in '1', 'true', 'yes'

Import-Module (Join-Path $bench 'BenchPeers.psm1')
$installNote = Install-BenchPeer
& (Join-Path $bench 'Measure-Benchmarks.ps1') -RepoRoot $RepoRoot -ModuleDir $ModuleDir -ResultsPath $resultsPath `
    -Quick:$quickRun -Suite $Suite -Clock $Clock -Note @($installNote | Where-Object { $_ })
& (Join-Path $bench 'Write-BenchmarkReport.ps1') -RepoRoot $RepoRoot -ResultsPath $resultsPath -ReportPath $ReportPath
