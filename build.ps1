#Requires -Version 7.4
<#
.SYNOPSIS
Builds, tests, documents, packages and benchmarks Memalloc.

.DESCRIPTION
The one entry point. Run it as `dotnet pwsh ./build.ps1` after `dotnet tool restore`, so that everyone
(and CI) uses the PowerShell pinned in .config/dotnet-tools.json. The modules it needs (Pester) are
pinned in tools/BuildModules.csproj and restored from the NuGet registry into the NuGet cache.

Tasks:
  Build    (default) out/Memalloc/<version>/: manifest, assemblies, format data, en-US help; then the demo.
  Test     Build, then xunit and Pester; prints 'tests: N passed, N failed' last.
  Docs     Turns docs/en-US markdown into MAML and about_ help inside the built module.
  Package  A .nupkg in out/packages that Install-PSResource accepts from a local repository.
  Bench    Benchmarks side by side with the peers; writes docs/benchmarks.md.
  Stress   The long fault campaigns (kills, concurrency, soak).
#>
[CmdletBinding()]
param (
    [ValidateSet('Build', 'Test', 'Docs', 'Package', 'Bench', 'Stress', 'Clean')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$RepoRoot = $PSScriptRoot
$ModuleName = 'Memalloc'
$Version = (Import-PowerShellDataFile -LiteralPath (Join-Path $RepoRoot 'module' "$ModuleName.psd1")).ModuleVersion
$OutDir = Join-Path $RepoRoot 'out'
$ModuleDir = Join-Path $OutDir $ModuleName $Version
$TestResultsDir = Join-Path $OutDir 'TestResults'
$Pwsh = Join-Path $PSHOME 'pwsh'
Import-Module (Join-Path $RepoRoot 'tools' 'TestSummary.psm1') -Force

function Write-Step([string] $Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

# Native output goes to the host, never into a function's return value.
function Invoke-Native([string] $FilePath, [string[]] $Arguments) {
    & $FilePath @Arguments | Out-Host
    if ($LASTEXITCODE -ne 0) {
        throw "'$FilePath $($Arguments -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

function Get-NuGetPackageRoot {
    if ($env:NUGET_PACKAGES) { return $env:NUGET_PACKAGES }
    $line = & dotnet nuget locals global-packages --list
    return ($line -replace '^global-packages:\s*', '').Trim()
}

# Restores the pinned PowerShell modules (tools/BuildModules.csproj) and returns the Pester manifest path.
function Restore-BuildModule {
    Invoke-Native dotnet @('restore', (Join-Path $RepoRoot 'tools' 'BuildModules.csproj'), '--verbosity', 'quiet')
    $pester = Join-Path (Get-NuGetPackageRoot) 'pester' '5.7.1' 'tools' 'Pester.psd1'
    if (-not (Test-Path -LiteralPath $pester)) { throw "Pester was restored but $pester is missing." }
    return $pester
}

function Invoke-Clean {
    Write-Step 'Clean'
    if (Test-Path -LiteralPath $OutDir) { Remove-Item -LiteralPath $OutDir -Recurse -Force }
}

function Invoke-Build {
    Write-Step "Build $ModuleName $Version ($Configuration)"
    if (Test-Path -LiteralPath $ModuleDir) { Remove-Item -LiteralPath $ModuleDir -Recurse -Force }
    $project = Join-Path $RepoRoot 'src' $ModuleName "$ModuleName.csproj"
    Invoke-Native dotnet @('publish', $project, '--configuration', $Configuration, '--output', $ModuleDir,
        "-p:Version=$Version", '--nologo', '--verbosity', 'quiet')
    # What pwsh itself provides (and the compile-time reference's leftovers) stays out of the module folder.
    Get-ChildItem -LiteralPath $ModuleDir -File |
        Where-Object { $_.Name -like '*.deps.json' -or $_.Name -like 'System.Management.Automation*' } |
        Remove-Item -Force
    # The module's own files (manifest, root module, format data) are copied whole.
    Copy-Item -Path (Join-Path $RepoRoot 'module' '*') -Destination $ModuleDir -Recurse
    Invoke-Docs
    $null = Test-ModuleManifest -Path (Join-Path $ModuleDir "$ModuleName.psd1")
    Write-Host "Module: $ModuleDir"
}

function Invoke-Docs {
    Write-Step 'Docs'
    & (Join-Path $RepoRoot 'tools' 'Build-Help.ps1') -SourcePath (Join-Path $RepoRoot 'docs' 'en-US') `
        -DestinationPath (Join-Path $ModuleDir 'en-US')
}

# The seed's example, split across three separate pwsh processes. It uses a store of its own, so building
# never touches a user's data in the default store.
function Invoke-Demo {
    Write-Step 'Demo: three pwsh processes share one stack'
    $store = "memalloc-demo-$PID"
    $import = "Import-Module '$(Join-Path $ModuleDir "$ModuleName.psd1")';"
    $steps = @(
        "Set-MemStack -Name var1 -Value 'Foobar' -Store $store"
        "`$data = Get-MemStack -Name var1 -Store $store; `$data += '123'; Set-MemStack -Name var1 -Value `$data -Store $store"
        "Get-MemStack -Name var1 -Store $store; Remove-MemStack -Name var1 -Store $store"
    )
    try {
        for ($i = 0; $i -lt $steps.Count; $i++) {
            $step = $steps[$i]
            Write-Host "[new pwsh process $($i + 1)/$($steps.Count)]> $step" -ForegroundColor DarkGray
            Invoke-Native $Pwsh @('-NoProfile', '-NonInteractive', '-Command', "$import $step")
        }
    }
    finally {
        & $Pwsh -NoProfile -NonInteractive -Command "$import Remove-MemStore -Name $store -Force -Confirm:`$false -ErrorAction SilentlyContinue"
    }
}

# The xunit tests a filter leaves out: listed (not run) with the opposite filter.
function Get-XunitListedCount([string] $Filter) {
    $listing = & dotnet test (Join-Path $RepoRoot 'tests' 'Memalloc.Core.Tests') --configuration $Configuration --no-build `
        --list-tests --filter $Filter --nologo
    $at = [array]::IndexOf(@($listing), 'The following Tests are available:')
    if ($LASTEXITCODE -ne 0 -or $at -lt 0) { throw "Listing the xunit tests for '$Filter' failed: $($listing -join "`n")" }
    @($listing | Select-Object -Skip ($at + 1) | Where-Object { $_ -match '^\s{4}\S' }).Count
}

function Invoke-Xunit([string] $Filter, [string] $LeftOutFilter) {
    Write-Step 'xunit: tests/Memalloc.Core.Tests'
    $trx = Join-Path $TestResultsDir 'core.trx'
    Remove-Item -LiteralPath $trx -ErrorAction Ignore
    $arguments = @('test', (Join-Path $RepoRoot 'tests' 'Memalloc.Core.Tests'), '--configuration', $Configuration,
        '--logger', 'trx;LogFileName=core.trx', '--logger', 'console;verbosity=normal',
        '--results-directory', $TestResultsDir, '--nologo')
    if ($Filter) { $arguments += @('--filter', $Filter) }
    & dotnet @arguments | Out-Host
    $exitCode = $LASTEXITCODE
    if (-not (Test-Path -LiteralPath $trx)) {
        Write-Warning "xunit produced no results (exit code $exitCode)."
        return [pscustomobject]@{ Runner = 'xunit'; Passed = 0; Failed = 1; Skipped = 0; NotRun = 0 }
    }
    $count = Get-TrxCount $trx
    # A test host that dies takes its unreported tests with it: a failing exit code with no failed test is one failure.
    if ($exitCode -ne 0 -and $count.Failed -eq 0) { $count.Failed = 1 }
    $notRun = if ($LeftOutFilter) { Get-XunitListedCount $LeftOutFilter } else { 0 }
    return [pscustomobject]@{ Runner = 'xunit'; Passed = $count.Passed; Failed = $count.Failed; Skipped = $count.Skipped; NotRun = $notRun }
}

# Pester runs in a separate pwsh with a clean PSModulePath: a binary module cannot be unloaded, and the
# tests must load the built module, not the source tree.
function Invoke-PesterSuite([string[]] $Tag, [string[]] $ExcludeTag) {
    Write-Step 'Pester: tests/*.Tests.ps1'
    $pester = Restore-BuildModule
    $resultPath = Join-Path $TestResultsDir 'pester.json'
    Remove-Item -LiteralPath $resultPath -ErrorAction Ignore
    $savedModulePath = $env:PSModulePath
    try {
        $env:PSModulePath = @($OutDir, (Join-Path $PSHOME 'Modules')) -join [System.IO.Path]::PathSeparator
        $arguments = @('-NoProfile', '-NonInteractive', '-File', (Join-Path $RepoRoot 'tools' 'PesterTest.ps1'),
            '-PesterPath', $pester, '-TestPath', (Join-Path $RepoRoot 'tests'), '-ResultPath', $resultPath)
        if ($Tag) { $arguments += @('-Tag', ($Tag -join ',')) }
        if ($ExcludeTag) { $arguments += @('-ExcludeTag', ($ExcludeTag -join ',')) }
        & $Pwsh @arguments | Out-Host
    }
    finally {
        $env:PSModulePath = $savedModulePath
    }
    if (-not (Test-Path -LiteralPath $resultPath)) {
        Write-Warning 'Pester produced no results.'
        return [pscustomobject]@{ Runner = 'Pester'; Passed = 0; Failed = 1; Skipped = 0; NotRun = 0 }
    }
    $count = Get-Content -LiteralPath $resultPath -Raw | ConvertFrom-Json
    $count | Add-Member -NotePropertyName Runner -NotePropertyValue 'Pester' -PassThru
}

function Write-TestSummary([object[]] $Counts) {
    $lines = @(Format-TestSummary -Count $Counts)
    $lines | ForEach-Object { Write-Host $_ }
    if (($Counts | Measure-Object -Property Failed -Sum).Sum -gt 0) { exit 1 }
}

function Invoke-Test {
    Invoke-Build
    $null = New-Item -ItemType Directory -Path $TestResultsDir -Force
    $xunit = Invoke-Xunit -Filter 'Category!=Stress' -LeftOutFilter 'Category=Stress'
    $pester = Invoke-PesterSuite -ExcludeTag 'Stress'
    Write-TestSummary @($xunit, $pester)
}

function Invoke-Stress {
    Invoke-Build
    $null = New-Item -ItemType Directory -Path $TestResultsDir -Force
    & (Join-Path $RepoRoot 'tools' 'Invoke-Stress.ps1') -RepoRoot $RepoRoot -ModuleDir $ModuleDir -Configuration $Configuration
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

function Invoke-Bench {
    Invoke-Build
    & (Join-Path $RepoRoot 'tools' 'Invoke-Benchmarks.ps1') -RepoRoot $RepoRoot -ModuleDir $ModuleDir
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

function Invoke-Package {
    Invoke-Build
    Write-Step 'Package'
    & (Join-Path $RepoRoot 'tools' 'New-ModulePackage.ps1') -ModuleDir $ModuleDir -OutputDir (Join-Path $OutDir 'packages') |
        ForEach-Object { Write-Host "Package: $($_.FullName)" }
}

Push-Location $RepoRoot
try {
    switch ($Task) {
        'Clean' { Invoke-Clean }
        'Build' { Invoke-Build; Invoke-Demo }
        'Docs' { Invoke-Docs }
        'Test' { Invoke-Test }
        'Package' { Invoke-Package }
        'Bench' { Invoke-Bench }
        'Stress' { Invoke-Stress }
    }
}
finally {
    Pop-Location
}
