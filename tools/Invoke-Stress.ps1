#Requires -Version 7.4
<#
.SYNOPSIS
The long fault campaigns (build.ps1 -Task Stress): kills, concurrency, soak, bad input, hostile segments, fuzzing and
model checking.

.DESCRIPTION
1. The core's own crash campaigns: the xunit tests of category Stress in tests/Memalloc.Core.Tests (the test host is
   killed at crash points inside the write, removal and growth protocols), with MEMALLOC_STRESS_KILLS kills.
2. The cmdlet-level campaigns: the Pester tests tagged Stress (pwsh writers and readers killed with SIGKILL at random
   points, at least MEMALLOC_STRESS_KILLS kills in all; mixed load from many processes and runspaces; a soak of
   MEMALLOC_SOAK_SECONDS), plus the bad-input and hostile-segment suites (tags BadInput, Security).
   The xunit Stress category also holds the long model-based and linearizability runs (MEMALLOC_MODEL_SECONDS each)
   and the cross-process history campaign (MEMALLOC_HISTORY_ROUNDS rounds).
3. AFL++ on the store's fuzz harness for MEMALLOC_FUZZ_SECONDS (tools/Invoke-Fuzz.ps1); fails on any crash or hang.
Each campaign writes its counts as JSON into out/TestResults/stress; this script sums them, rewrites the figures
section of docs/reliability.md and prints 'stress: N passed, N failed'. Exit code 1 when anything failed.
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $RepoRoot,
    [Parameter(Mandatory)] [string] $ModuleDir,
    [ValidateSet('Debug', 'Release')] [string] $Configuration = 'Release',
    # Pester's manifest (the Stress task passes the pinned one); restored when missing.
    [string] $PesterPath = $((& (Join-Path $PSScriptRoot 'Get-BuildTool.ps1'))['Pester']),
    [int] $Kills = $(if ($env:MEMALLOC_STRESS_KILLS) { [int] $env:MEMALLOC_STRESS_KILLS } else { 200 }),
    [int] $SoakSeconds = $(if ($env:MEMALLOC_SOAK_SECONDS) { [int] $env:MEMALLOC_SOAK_SECONDS } else { 300 }),
    [int] $ConcurrencySeconds = $(if ($env:MEMALLOC_CONCURRENCY_SECONDS) { [int] $env:MEMALLOC_CONCURRENCY_SECONDS } else { 90 }),
    [int] $FuzzSeconds = $(if ($env:MEMALLOC_FUZZ_SECONDS) { [int] $env:MEMALLOC_FUZZ_SECONDS } else { 600 }),
    [switch] $SkipCore,
    [switch] $SkipFuzz,
    [switch] $NoDocs,
    # Only rewrite the figures (docs/reliability.md) from the JSON of the last run in out/TestResults/stress.
    [switch] $FiguresOnly
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$outDir = Join-Path $RepoRoot 'out'
$resultsDir = Join-Path $outDir 'TestResults'
$reportDir = Join-Path $resultsDir 'stress'
if ((Test-Path -LiteralPath $reportDir) -and -not $FiguresOnly) { Remove-Item -LiteralPath $reportDir -Recurse -Force }
$null = New-Item -ItemType Directory -Path $reportDir -Force
$pwsh = Join-Path $PSHOME 'pwsh'
$started = [DateTime]::UtcNow

$saved = @{}
foreach ($name in 'MEMALLOC_STRESS_KILLS', 'MEMALLOC_SOAK_SECONDS', 'MEMALLOC_CONCURRENCY_SECONDS', 'MEMALLOC_FAULTS_REPORT', 'PSModulePath') {
    $saved[$name] = [Environment]::GetEnvironmentVariable($name)
}
$env:MEMALLOC_STRESS_KILLS = "$Kills"
$env:MEMALLOC_SOAK_SECONDS = "$SoakSeconds"
$env:MEMALLOC_CONCURRENCY_SECONDS = "$ConcurrencySeconds"
$env:MEMALLOC_FAULTS_REPORT = $reportDir

$counts = [System.Collections.Generic.List[object]]::new()
if (-not $FiguresOnly) { try {
    # ---- 1. core crash campaigns (xunit, category Stress) ----
    if (-not $SkipCore) {
        Write-Host "==> Stress: core crash campaigns (xunit Category=Stress, MEMALLOC_STRESS_KILLS=$Kills)" -ForegroundColor Cyan
        $trx = Join-Path $reportDir 'core-stress.trx'
        & dotnet test (Join-Path $RepoRoot 'tests' 'Memalloc.Core.Tests') --configuration $Configuration `
            --filter 'Category=Stress' --logger 'trx;LogFileName=core-stress.trx' --logger 'console;verbosity=normal' `
            --results-directory $reportDir --nologo
        if (Test-Path -LiteralPath $trx) {
            Import-Module (Join-Path $PSScriptRoot 'TestSummary.psm1') -Force
            $c = Get-TrxCount -Path $trx
            $core = [pscustomobject]@{ Suite = 'core'; Passed = $c.Passed; Failed = $c.Failed }
        }
        else {
            Write-Warning "xunit wrote no results (exit code $LASTEXITCODE)."
            $core = [pscustomobject]@{ Suite = 'core'; Passed = 0; Failed = 1 }
        }
        $counts.Add($core)
        # The core's kills, from the results: its random campaign kills MEMALLOC_STRESS_KILLS writers, and each
        # crash-point case kills one test host at a named step of the write, removal or growth protocol.
        if (Test-Path -LiteralPath $trx) {
            $ns = @{ t = 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010' }
            $results = @(Select-Xml -LiteralPath $trx -XPath '//t:UnitTestResult' -Namespace $ns | ForEach-Object Node)
            $passedRandom = @($results | Where-Object { $_.testName -like '*killed_at_random_points*' -and $_.outcome -eq 'Passed' }).Count
            $passedPoints = @($results | Where-Object { $_.testName -like '*crash_point*' -and $_.outcome -eq 'Passed' }).Count
            [ordered]@{ Campaign = 'core-kills'; Kills = $passedRandom * $Kills + $passedPoints; RandomCampaignsPassed = $passedRandom
                CrashPointCasesPassed = $passedPoints; TestsPassed = $core.Passed; TestsFailed = $core.Failed } |
                ConvertTo-Json | Set-Content -LiteralPath (Join-Path $reportDir 'core-kills.json')
        }
    }

    # ---- 2. cmdlet-level campaigns (Pester: Stress, BadInput, Security) ----
    Write-Host "==> Stress: cmdlet campaigns (Pester tags Stress, BadInput, Security; $Kills kills, $SoakSeconds s soak)" -ForegroundColor Cyan
    $pesterResult = Join-Path $reportDir 'pester.json'
    & $pwsh -NoProfile -NonInteractive -File (Join-Path $RepoRoot 'tools' 'PesterTest.ps1') -PesterPath $PesterPath `
        -TestPath (Join-Path $RepoRoot 'tests') -ResultPath $pesterResult -Tag 'Stress,BadInput,Security'
    if (Test-Path -LiteralPath $pesterResult) {
        $p = Get-Content -LiteralPath $pesterResult -Raw | ConvertFrom-Json
        $counts.Add([pscustomobject]@{ Suite = 'pester'; Passed = $p.Passed; Failed = $p.Failed })
    }
    else {
        Write-Warning 'Pester wrote no results.'
        $counts.Add([pscustomobject]@{ Suite = 'pester'; Passed = 0; Failed = 1 })
    }

    # ---- 3. AFL++ on everything the store reads from shared memory ----
    if (-not $SkipFuzz) {
        $counts.Add((& (Join-Path $RepoRoot 'tools' 'Invoke-Fuzz.ps1') -RepoRoot $RepoRoot -ReportDir $reportDir -Seconds $FuzzSeconds))
    }
}
finally {
    foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
} }

# ---- 3. figures ----
$figures = @{}
foreach ($file in Get-ChildItem -LiteralPath $reportDir -Filter '*.json' | Where-Object Name -NotIn 'pester.json', 'run-summary.json') {
    $data = Get-Content -LiteralPath $file.FullName -Raw | ConvertFrom-Json
    $key = if ($data.PSObject.Properties['Campaign']) { $data.Campaign } else { $file.BaseName }
    $figures[$key] = $data
}
function Get-Figure([string] $Campaign, [string] $Name) {
    if ($figures.ContainsKey($Campaign) -and $figures[$Campaign].PSObject.Properties[$Name]) { $figures[$Campaign].$Name } else { 0 }
}
$killCampaigns = @('kill-set', 'kill-update', 'kill-grow', 'kill-reader')
$pwshKills = ($killCampaigns | ForEach-Object { Get-Figure $_ 'Kills' } | Measure-Object -Sum).Sum
$coreKills = Get-Figure 'core-kills' 'Kills'
$operations = (@($killCampaigns | ForEach-Object { (Get-Figure $_ 'ValuesChecked') + (Get-Figure $_ 'CountersChecked') + (Get-Figure $_ 'ReaderReads') + (Get-Figure $_ 'AcknowledgedWrites') }) +
    @(Get-Figure 'concurrency' 'OperationsChecked') + @(Get-Figure 'soak' 'Operations') | Measure-Object -Sum).Sum
$bytesLost = ($figures.Values | ForEach-Object { if ($_.PSObject.Properties['BytesLost']) { $_.BytesLost } } | Measure-Object -Sum).Sum
$inputs = Get-Figure 'bad-input' 'InputsTried'
$passed = [int] (@($counts | ForEach-Object Passed) + 0 | Measure-Object -Sum).Sum
$failed = [int] (@($counts | ForEach-Object Failed) + 0 | Measure-Object -Sum).Sum
$minutes = [Math]::Round(([DateTime]::UtcNow - $started).TotalMinutes, 1)

$commit = (& git -C $RepoRoot rev-parse --short HEAD 2>$null)
$summaryPath = Join-Path $reportDir 'run-summary.json'
if ($FiguresOnly -and (Test-Path -LiteralPath $summaryPath)) {
    $summary = Get-Content -LiteralPath $summaryPath -Raw | ConvertFrom-Json
    $started = [DateTime]::Parse($summary.Started, [cultureinfo]::InvariantCulture, 'AdjustToUniversal,AssumeUniversal')
    $minutes = $summary.Minutes; $passed = $summary.Passed; $failed = $summary.Failed; $commit = $summary.Commit
}
else {
    [ordered]@{ Started = $started.ToString('o'); Minutes = $minutes; Passed = $passed; Failed = $failed; Commit = $commit } |
        ConvertTo-Json | Set-Content -LiteralPath $summaryPath
}
$lines = [System.Collections.Generic.List[string]]::new()
$lines.Add("Last Stress run: $($started.ToString('yyyy-MM-dd HH:mm')) UTC, $minutes min, commit $commit, $([Environment]::ProcessorCount) cores, Linux $((& uname -r))." )
$lines.Add("Result: $passed tests passed, $failed failed.")
$failedNames = @()
$nunit = Join-Path $reportDir 'pester.xml'
if (Test-Path -LiteralPath $nunit) {
    $failedNames += @(Select-Xml -LiteralPath $nunit -XPath "//test-case[@result='Failure']" | ForEach-Object { $_.Node.description })
}
$coreTrx = Join-Path $reportDir 'core-stress.trx'
if (Test-Path -LiteralPath $coreTrx) {
    $failedNames += @(Select-Xml -LiteralPath $coreTrx -XPath "//t:UnitTestResult[@outcome='Failed']" -Namespace @{ t = 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010' } | ForEach-Object { $_.Node.testName })
}
foreach ($name in $failedNames) { $lines.Add("Failed: *$name*") }
$lines.Add('')
$lines.Add('| figure | value |')
$lines.Add('|---|---|')
$lines.Add("| pwsh processes killed with SIGKILL (writers, updaters, growers, readers) and survived | $pwshKills |")
if (-not $SkipCore) {
    $lines.Add("| core test hosts killed (random points and named crash points, xunit Stress) and survived | $coreKills |")
    $lines.Add("| core xunit Stress tests | $(Get-Figure 'core-kills' 'TestsPassed') passed, $(Get-Figure 'core-kills' 'TestsFailed') failed |")
}
$lines.Add("| operations checked (acknowledged writes, values and counters re-read after kills, reader reads, mixed-load and soak operations) | $operations |")
$lines.Add("| bad inputs tried (each: error id, category, store unchanged) | $inputs |")
if ($figures.ContainsKey('fuzz')) {
    $lines.Add("| AFL++ on the segments the store reads (tests/Memalloc.Fuzz): executions, paths, crashes and hangs | $(Get-Figure 'fuzz' 'Executions') in $(Get-Figure 'fuzz' 'Seconds') s, $(Get-Figure 'fuzz' 'Paths') paths, $((Get-Figure 'fuzz' 'Crashes') + (Get-Figure 'fuzz' 'Hangs')) |")
}
if ($figures.ContainsKey('history')) {
    $lines.Add("| operations of several processes checked for linearizability (overlapping another process's) | $(Get-Figure 'history' 'OperationsChecked') ($(Get-Figure 'history' 'Overlapping')) |")
}
$lines.Add("| bytes of acknowledged writes lost | $bytesLost |")
$lines.Add('')
$lines.Add('| campaign | counts |')
$lines.Add('|---|---|')
foreach ($key in ($figures.Keys | Sort-Object)) {
    $pairs = foreach ($prop in $figures[$key].PSObject.Properties) {
        if ($prop.Name -in 'Campaign', 'Messages') { continue }
        "$($prop.Name) $($prop.Value)"
    }
    $lines.Add("| $key | $($pairs -join ', ') |")
}
$section = $lines -join "`n"
Write-Host $section

if (-not $NoDocs) {
    $docPath = Join-Path $RepoRoot 'docs' 'reliability.md'
    $begin = '<!-- stress-figures:begin -->'
    $end = '<!-- stress-figures:end -->'
    $text = if (Test-Path -LiteralPath $docPath) { Get-Content -LiteralPath $docPath -Raw } else { "# Reliability`n`n## Figures of the last Stress run`n`n$begin`n$end`n" }
    $from = $text.IndexOf($begin)
    $to = $text.IndexOf($end)
    if ($from -lt 0 -or $to -lt $from) { $text = $text.TrimEnd() + "`n`n## Figures of the last Stress run`n`n$begin`n$end`n"; $from = $text.IndexOf($begin); $to = $text.IndexOf($end) }
    $text = $text.Substring(0, $from + $begin.Length) + "`n" + $section + "`n" + $text.Substring($to)
    Set-Content -LiteralPath $docPath -Value ($text.TrimEnd() + "`n") -NoNewline
    Write-Host "Figures written to $docPath"
}

Write-Host "stress: $passed passed, $failed failed"
exit $(if ($failed -gt 0) { 1 } else { 0 })
