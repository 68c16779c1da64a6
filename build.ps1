#Requires -Version 7.4
<#
.SYNOPSIS
Builds, tests, documents, packages and benchmarks Memalloc.

.DESCRIPTION
The one entry point. Run it as `dotnet pwsh ./build.ps1` after `dotnet tool restore`, so that everyone (and CI)
uses the PowerShell pinned in .config/dotnet-tools.json. It restores the build and test modules pinned in
tools/BuildModules.csproj (Invoke-Build, Pester) from the NuGet registry and hands the task to Invoke-Build and
the task file tools/InvokeBuild.ps1, which says what each task does:

  Demo     (default) Build, then the seed's example in three separate pwsh processes.
  Build    out/Memalloc/<version>/: assemblies, module/ (manifest, root module, format data), en-US help.
  Test     Build, then xunit and Pester; prints 'tests: N passed, N failed' last.
  Docs     Turns docs/en-US markdown into MAML and about_ help inside the built module.
  Package  A .nupkg in out/packages that Install-PSResource accepts from a local repository.
  Bench    Benchmarks side by side with the peers; writes docs/benchmarks.md and its charts
           (MEMALLOC_BENCH_QUICK=1: a quick run, not for judging).
  Stress   The long fault campaigns (kills, concurrency, soak).
  Clean    Removes out/.
#>
[CmdletBinding()]
param (
    [ValidateSet('Demo', 'Build', 'Test', 'Docs', 'Package', 'Bench', 'Stress', 'Clean')]
    [string] $Task = 'Demo',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$tools = & (Join-Path $PSScriptRoot 'tools' 'Get-BuildTool.ps1')
Import-Module -Name $tools['Invoke-Build']

# Invoke-Build ends with its own 'Build succeeded/FAILED' line; a task's summary (the Test task's counts) is
# printed after it, so that it stays the last line.
$summaryPath = Join-Path $PSScriptRoot 'out' 'TestResults' 'summary.txt'
Remove-Item -LiteralPath $summaryPath -ErrorAction Ignore
Invoke-Build -Task $Task -File (Join-Path $PSScriptRoot 'tools' 'InvokeBuild.ps1') -Configuration $Configuration `
    -PesterPath $tools['Pester'] -SummaryPath $summaryPath -Result build -Safe
if (Test-Path -LiteralPath $summaryPath) { Get-Content -LiteralPath $summaryPath | Write-Host }
exit $(if ($build.Error) { 1 } else { 0 })
