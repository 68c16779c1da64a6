#Requires -Version 7.4
<#
.SYNOPSIS
Runs AFL++ on the store's fuzz harness (tests/Memalloc.Fuzz) for a bounded time; part of build.ps1 -Task Stress.

.DESCRIPTION
Installs what is missing (Debian's afl++ through apt-get, the SharpFuzz.CommandLine tool into out/tools), publishes
tests/Memalloc.Fuzz into out/fuzz/bin, instruments Memalloc.Core.dll there with SharpFuzz, and runs afl-fuzz from the
committed corpus with the dictionary, niced, in an IPC namespace of its own (unshare --ipc: the harness lays its
segments out at the keys of store 'fuzz', and nothing of it outlives the namespace). Then it reads AFL's
fuzzer_stats, copies the crashes and hangs into the report directory, writes fuzz.json (campaign 'fuzz') and returns
an object with Passed/Failed (failed when AFL saved a crash or a hang). See docs/reliability.md, "Fuzzing".
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $RepoRoot,
    [Parameter(Mandatory)] [string] $ReportDir,
    [int] $Seconds = $(if ($env:MEMALLOC_FUZZ_SECONDS) { [int] $env:MEMALLOC_FUZZ_SECONDS } else { 600 })
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$fuzzDir = Join-Path $RepoRoot 'out' 'fuzz'
$binDir = Join-Path $fuzzDir 'bin'
$findings = Join-Path $fuzzDir 'findings'
$toolDir = Join-Path $RepoRoot 'out' 'tools'
$sharpfuzz = Join-Path $toolDir 'sharpfuzz'

function Invoke-Checked([string] $FilePath, [string[]] $Arguments) {
    & $FilePath @Arguments | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "'$FilePath $($Arguments -join ' ')' failed with exit code $LASTEXITCODE." }
}

if (-not (Get-Command afl-fuzz -ErrorAction Ignore)) {
    Write-Host 'Installing afl++ (apt-get)'
    Invoke-Checked apt-get @('update', '-qq')
    $env:DEBIAN_FRONTEND = 'noninteractive'
    Invoke-Checked apt-get @('install', '-y', '-qq', 'afl++')
}
if (-not (Test-Path -LiteralPath $sharpfuzz)) {
    Invoke-Checked dotnet @('tool', 'install', 'SharpFuzz.CommandLine', '--version', '2.3.0', '--tool-path', $toolDir)
}

if (Test-Path -LiteralPath $fuzzDir) { Remove-Item -LiteralPath $fuzzDir -Recurse -Force }
Invoke-Checked dotnet @('publish', (Join-Path $RepoRoot 'tests' 'Memalloc.Fuzz'), '--configuration', 'Release', '--output', $binDir, '--nologo', '--verbosity', 'quiet')
Invoke-Checked $sharpfuzz @((Join-Path $binDir 'Memalloc.Core.dll'))

# AFL's environment: dotnet itself is not instrumented (the store's assembly is, by SharpFuzz); the seeds are whole
# overlays that must not be trimmed; no curses UI in a log; this machine's CPU governor and core pattern are not ours.
$aflEnv = @{ AFL_SKIP_BIN_CHECK = '1'; AFL_DISABLE_TRIM = '1'; AFL_NO_UI = '1'; AFL_SKIP_CPUFREQ = '1'
    AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES = '1'; AFL_NO_AFFINITY = '1' }
$saved = @{}
foreach ($name in $aflEnv.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $aflEnv[$name]) }
$afl = @('afl-fuzz', '-i', (Join-Path $RepoRoot 'tests' 'Memalloc.Fuzz' 'corpus'), '-o', $findings, '-x', (Join-Path $RepoRoot 'tests' 'Memalloc.Fuzz' 'fuzz.dict'),
    '-t', '2000', '-m', 'none', '-V', "$Seconds", '--', 'dotnet', (Join-Path $binDir 'Memalloc.Fuzz.dll'))
$log = Join-Path $ReportDir 'afl.log'
Write-Host "==> Stress: AFL++ on tests/Memalloc.Fuzz for $Seconds s (log: $log)" -ForegroundColor Cyan
try {
    & unshare --ipc -- true 2>$null
    if ($LASTEXITCODE -eq 0) { & nice -n 10 unshare --ipc -- @afl *> $log }
    else { Write-Warning 'unshare --ipc is not permitted here: AFL runs in the shared IPC namespace.'; & nice -n 10 @afl *> $log }
    $aflExit = $LASTEXITCODE
}
finally {
    foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
}

$statsPath = Join-Path $findings 'default' 'fuzzer_stats'
if (-not (Test-Path -LiteralPath $statsPath)) {
    Write-Warning "afl-fuzz wrote no statistics (exit code $aflExit); see $log."
    return [pscustomobject]@{ Suite = 'fuzz'; Passed = 0; Failed = 1 }
}
$stats = @{}
foreach ($line in Get-Content -LiteralPath $statsPath) {
    if ($line -match '^(\w+)\s*:\s*(.*)$') { $stats[$Matches[1]] = $Matches[2].Trim() }
}
$findingCounts = foreach ($kind in 'crashes', 'hangs') {
    $from = Join-Path $findings 'default' $kind
    $files = @(Get-ChildItem -LiteralPath $from -File -ErrorAction Ignore | Where-Object Name -Like 'id*')
    if ($files.Count -gt 0) {
        $to = Join-Path $ReportDir "fuzz-$kind"
        $null = New-Item -ItemType Directory -Path $to -Force
        $files | Copy-Item -Destination $to
    }
    $files.Count
}
$figures = [ordered]@{
    Campaign = 'fuzz'; Seconds = [int] $stats['run_time']; Executions = [long] $stats['execs_done']
    ExecutionsPerSecond = [double] $stats['execs_per_sec']; Paths = [int] $stats['corpus_count']; Edges = [int] $stats['edges_found']
    Crashes = $findingCounts[0]; Hangs = $findingCounts[1]
}
$figures | ConvertTo-Json | Set-Content -LiteralPath (Join-Path $ReportDir 'fuzz.json')
Write-Host ("AFL++: {0} executions in {1} s ({2}/s), {3} paths, {4} edges, {5} crashes, {6} hangs" -f $figures.Executions, $figures.Seconds,
    $figures.ExecutionsPerSecond, $figures.Paths, $figures.Edges, $figures.Crashes, $figures.Hangs)
$failed = [int] ($figures.Crashes + $figures.Hangs -gt 0)
if ($failed) { Write-Warning "AFL++ saved findings: replay them with 'dotnet $(Join-Path $binDir 'Memalloc.Fuzz.dll') replay <file>' (copies in $ReportDir)." }
[pscustomobject]@{ Suite = 'fuzz'; Passed = 1 - $failed; Failed = $failed }
