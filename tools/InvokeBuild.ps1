#Requires -Version 7.4
<#
.SYNOPSIS
Memalloc's build tasks, for Invoke-Build. Start them through build.ps1, which restores the pinned tools first.

.DESCRIPTION
Demo (the default) and Build put the installable module into out/Memalloc/<version>/; Test, Bench, Stress and
Package build it first. The module's version is the manifest's (module/Memalloc.psd1) and nowhere else.
#>
[CmdletBinding()]
param (
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Pester's manifest in the NuGet cache (build.ps1 passes it); restored here when missing.
    [string] $PesterPath,

    # Where the Test task leaves its summary lines (build.ps1 prints them last).
    [string] $SummaryPath
)

Set-StrictMode -Version Latest

$BuildRoot = Split-Path -Parent $PSScriptRoot
$ModuleName = 'Memalloc'
$Version = (Import-PowerShellDataFile -LiteralPath (Join-Path $BuildRoot 'module' "$ModuleName.psd1")).ModuleVersion
$OutDir = Join-Path $BuildRoot 'out'
$ModuleDir = Join-Path $OutDir $ModuleName $Version
$TestResultsDir = Join-Path $OutDir 'TestResults'
if (-not $SummaryPath) { $SummaryPath = Join-Path $TestResultsDir 'summary.txt' }
$Pwsh = Join-Path $PSHOME 'pwsh'
# What each test runner counted, for the Test task's summary.
$TestCounts = [System.Collections.Generic.List[object]]::new()
Import-Module (Join-Path $PSScriptRoot 'TestSummary.psm1') -Force

function Get-PesterPath {
    if ($PesterPath) { return $PesterPath }
    (& (Join-Path $PSScriptRoot 'Get-BuildTool.ps1'))['Pester']
}

# Synopsis: Removes out/ (the built module, test results, packages, benchmark output).
task Clean {
    remove $OutDir
}

# Synopsis: Publishes the assemblies into out/Memalloc/<version>/, without what pwsh itself provides.
task BuildManaged {
    Write-Build Cyan "$ModuleName $Version ($Configuration)"
    remove $ModuleDir
    exec { dotnet publish (Join-Path $BuildRoot 'src' $ModuleName "$ModuleName.csproj") --configuration $Configuration `
            --output $ModuleDir "-p:Version=$Version" --nologo --verbosity quiet }
    # The Redis backend and StackExchange.Redis go into redis/, loaded in an AssemblyLoadContext of their own only when a
    # Redis store is used (docs/redis-design.md, "Packaging"); Memalloc.Core is the default context's, never a copy.
    $redisDir = Join-Path $ModuleDir 'redis'
    exec { dotnet publish (Join-Path $BuildRoot 'src' 'Memalloc.Redis' 'Memalloc.Redis.csproj') --configuration $Configuration `
            --output $redisDir "-p:Version=$Version" --nologo --verbosity quiet }
    Get-ChildItem -LiteralPath $redisDir -File |
        Where-Object { $_.Name -like '*.deps.json' -or $_.Name -like 'Memalloc.Core.*' -or $_.Name -like '*.pdb' } |
        Remove-Item -Force
    # What pwsh itself provides (and the compile-time reference's leftovers) stays out of the module folder.
    Get-ChildItem -LiteralPath $ModuleDir -File |
        Where-Object { $_.Name -like '*.deps.json' -or $_.Name -like 'System.Management.Automation*' } |
        Remove-Item -Force
}

# Synopsis: Copies module/ (manifest, root module, format data) whole into the built module.
task BuildModule {
    Copy-Item -Path (Join-Path $BuildRoot 'module' '*') -Destination $ModuleDir -Recurse -Force
}

# Synopsis: Turns docs/en-US (platyPS markdown) into MAML and about_ help inside the built module.
task Docs {
    & (Join-Path $PSScriptRoot 'Build-Help.ps1') -SourcePath (Join-Path $BuildRoot 'docs' 'en-US') `
        -DestinationPath (Join-Path $ModuleDir 'en-US')
}

# Synopsis: The installable module in out/Memalloc/<version>/.
task Build BuildManaged, BuildModule, Docs, {
    $null = Test-ModuleManifest -Path (Join-Path $ModuleDir "$ModuleName.psd1")
    Write-Build Cyan "Module: $ModuleDir"
}

# Synopsis: Build, then the seed's example split across three separate pwsh processes.
# It uses a store of its own, so building never touches a user's data in the default store.
task Demo Build, {
    $store = "memalloc-demo-$PID"
    $import = "Import-Module '$(Join-Path $ModuleDir "$ModuleName.psd1")';"
    $steps = @(
        "Set-MemStack -Name var1 -Value 'Foobar' -Store $store"
        "`$data = Get-MemStack -Name var1 -Store $store; `$data += '123'; Set-MemStack -Name var1 -Value `$data -Store $store"
        "Get-MemStack -Name var1 -Store $store; Remove-MemStack -Name var1 -Store $store"
    )
    try {
        for ($i = 0; $i -lt $steps.Count; $i++) {
            Write-Build DarkGray "[new pwsh process $($i + 1)/$($steps.Count)]> $($steps[$i])"
            exec { & $Pwsh -NoProfile -NonInteractive -Command "$import $($steps[$i])" }
        }
    }
    finally {
        & $Pwsh -NoProfile -NonInteractive -Command "$import Remove-MemStore -Name $store -Force -Confirm:`$false -ErrorAction SilentlyContinue"
    }
}

# Synopsis: xunit (tests/Memalloc.Core.Tests) without the Stress category; counts what ran and what was left out.
task UnitTests {
    $project = Join-Path $BuildRoot 'tests' 'Memalloc.Core.Tests'
    $trx = Join-Path $TestResultsDir 'core.trx'
    Remove-Item -LiteralPath $trx -ErrorAction Ignore
    & dotnet test $project --configuration $Configuration --filter 'Category!=Stress' --logger 'trx;LogFileName=core.trx' `
        --logger 'console;verbosity=normal' --results-directory $TestResultsDir --nologo | Out-Host
    $exitCode = $LASTEXITCODE
    if (-not (Test-Path -LiteralPath $trx)) {
        # Nothing ran (the tests did not build, say): one failure, and nothing to list.
        Write-Warning "xunit produced no results (exit code $exitCode)."
        $TestCounts.Add([pscustomobject]@{ Runner = 'xunit'; Passed = 0; Failed = 1; Skipped = 0; NotRun = 0 })
        return
    }
    $count = Get-TrxCount -Path $trx
    # A test host that dies takes its unreported tests with it: a failing exit code with no failed test is one failure.
    if ($exitCode -ne 0 -and $count.Failed -eq 0) { $count.Failed = 1 }
    # The tests the filter left out, listed (not run) with the opposite filter.
    $listing = @(& dotnet test $project --configuration $Configuration --no-build --list-tests --filter 'Category=Stress' --nologo)
    $at = [array]::IndexOf($listing, 'The following Tests are available:')
    if ($LASTEXITCODE -ne 0 -or $at -lt 0) { throw "Listing the xunit Stress tests failed: $($listing -join "`n")" }
    $notRun = @($listing | Select-Object -Skip ($at + 1) | Where-Object { $_ -match '^\s{4}\S' }).Count
    $TestCounts.Add([pscustomobject]@{ Runner = 'xunit'; Passed = $count.Passed; Failed = $count.Failed; Skipped = $count.Skipped; NotRun = $notRun })
}

# Synopsis: Pester (tests/*.Tests.ps1) without the Stress tag, in a separate pwsh that loads the built module.
# A binary module cannot be unloaded, and the tests must load the built module, not the source tree.
task PesterTests {
    $resultPath = Join-Path $TestResultsDir 'pester.json'
    Remove-Item -LiteralPath $resultPath -ErrorAction Ignore
    & $Pwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'PesterTest.ps1') -PesterPath (Get-PesterPath) `
        -TestPath (Join-Path $BuildRoot 'tests') -ResultPath $resultPath -ExcludeTag Stress | Out-Host
    $count = if (Test-Path -LiteralPath $resultPath) { Get-Content -LiteralPath $resultPath -Raw | ConvertFrom-Json }
    else {
        Write-Warning 'Pester produced no results.'
        [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; NotRun = 0 }
    }
    $TestCounts.Add([pscustomobject]@{ Runner = 'Pester'; Passed = $count.Passed; Failed = $count.Failed; Skipped = $count.Skipped; NotRun = $count.NotRun })
}

# The extra passes the Test task runs besides xunit and Pester, named in MEMALLOC_TEST_PASSES (comma-separated;
# .ci/run names both): 'emulated-mac' (root: macOS's System V limits in a private IPC namespace) and 'arm64'
# (Linux arm64 under qemu-user; .ci/arm64.sh installs it). Their counts go into the same summary.
function Test-TestPass([string] $Name) { ($env:MEMALLOC_TEST_PASSES -split ',' | ForEach-Object Trim) -contains $Name }

# Synopsis: The emulated-Mac pass (tools/EmulatedMacPass.ps1), in a private IPC namespace of its own.
task EmulatedMacTests -If { Test-TestPass 'emulated-mac' } {
    $resultPath = Join-Path $TestResultsDir 'emulated-mac.json'
    Remove-Item -LiteralPath $resultPath -ErrorAction Ignore
    & unshare --ipc -- $Pwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'EmulatedMacPass.ps1') -RepoRoot $BuildRoot `
        -ResultDir $TestResultsDir -PesterPath (Get-PesterPath) -Configuration $Configuration | Out-Host
    if (Test-Path -LiteralPath $resultPath) { Get-Content -LiteralPath $resultPath -Raw | ConvertFrom-Json | ForEach-Object { $TestCounts.Add($_) } }
    else { $TestCounts.Add([pscustomobject]@{ Runner = 'emulated Mac'; Passed = 0; Failed = 1; Skipped = 0; NotRun = 0 }) }
}

# Synopsis: The Linux arm64 pass (.ci/arm64.sh): the core's single-process tests under qemu-user.
task Arm64Tests -If { Test-TestPass 'arm64' } {
    $lines = @(& bash (Join-Path $BuildRoot '.ci' 'arm64.sh') 2>&1 | ForEach-Object { "$_" })
    $lines | Out-Host
    # The child-process tests it leaves out ran natively above: they are not "not run" for the whole Test task.
    $count = Get-RunnerLineCount -Line $lines -Runner 'arm64'
    $TestCounts.Add([pscustomobject]@{ Runner = 'xunit (arm64, qemu)'; Passed = $count.Passed; Failed = $count.Failed; Skipped = $count.Skipped; NotRun = 0 })
}

# Synopsis: Build, xunit and Pester (and the passes MEMALLOC_TEST_PASSES names); the summary ends with 'tests: N passed, N failed[, N skipped]'.
task Test Build, { $null = New-Item -ItemType Directory -Path $TestResultsDir -Force }, UnitTests, PesterTests, EmulatedMacTests, Arm64Tests, {
    Format-TestSummary -Count $TestCounts | Set-Content -LiteralPath $SummaryPath
    $failed = ($TestCounts | Measure-Object -Property Failed -Sum).Sum
    if ($failed -gt 0) { throw "$failed tests failed." }
}

# Synopsis: Build, then the long fault campaigns (tools/Invoke-Stress.ps1); rewrites docs/reliability.md's figures.
task Stress Build, {
    $null = New-Item -ItemType Directory -Path $TestResultsDir -Force
    exec { & (Join-Path $PSScriptRoot 'Invoke-Stress.ps1') -RepoRoot $BuildRoot -ModuleDir $ModuleDir `
            -Configuration $Configuration -PesterPath (Get-PesterPath) }
}

# Synopsis: Build, then the benchmarks beside their peers (tools/Invoke-Benchmarks.ps1); writes docs/benchmarks.md and
# docs/benchmarks-*.svg. MEMALLOC_BENCH_QUICK=1 makes it a quick run (fewer iterations), marked as not for judging.
task Bench Build, {
    exec { & (Join-Path $PSScriptRoot 'Invoke-Benchmarks.ps1') -RepoRoot $BuildRoot -ModuleDir $ModuleDir }
}

# Synopsis: Build, then a .nupkg in out/packages that Install-PSResource accepts from a local repository.
task Package Build, {
    & (Join-Path $PSScriptRoot 'New-ModulePackage.ps1') -ModuleDir $ModuleDir -OutputDir (Join-Path $OutDir 'packages') |
        ForEach-Object { Write-Build Cyan "Package: $($_.FullName)" }
}

task . Demo
