#Requires -Version 7.4
<#
.SYNOPSIS
Runs Pester suites against the built module, in this pwsh; the Test and Stress tasks start it in a separate one.

.DESCRIPTION
A binary module cannot be unloaded, so the tests run in a pwsh of their own whose PSModulePath is out/ and
pwsh's own modules only: 'Import-Module Memalloc' loads the built module, never the source tree or an
installed copy. Run one file while working on it (after a build):

    dotnet pwsh ./tools/PesterTest.ps1 -TestPath tests/Get-MemStack.Tests.ps1

With -ResultPath it also writes the counts as JSON for the tasks (and NUnit XML beside it).
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string[]] $TestPath,
    # Pester's manifest; by default the pinned one (tools/BuildModules.csproj), restored when missing.
    [string] $PesterPath,
    [string] $ResultPath,
    [string] $Tag,
    [string] $ExcludeTag
)

$ErrorActionPreference = 'Stop'
if (-not $PesterPath) { $PesterPath = (& (Join-Path $PSScriptRoot 'Get-BuildTool.ps1'))['Pester'] }
Import-Module -Name $PesterPath
$env:PSModulePath = @((Join-Path (Split-Path -Parent $PSScriptRoot) 'out'), (Join-Path $PSHOME 'Modules')) -join [System.IO.Path]::PathSeparator

# Registrations of Redis stores go to a folder of this run, never the user's own (~/.config/memalloc); child pwsh
# processes inherit it.
$env:XDG_CONFIG_HOME = Join-Path ([System.IO.Path]::GetTempPath()) "memalloc-test-config-$PID"
$null = New-Item -ItemType Directory -Path $env:XDG_CONFIG_HOME -Force
Import-Module (Join-Path (Split-Path -Parent $PSScriptRoot) 'tests' 'TestRedis.psm1') -Global

# A suite with a -Backend parameter runs once per backend (MEMALLOC_TEST_BACKENDS narrows the list): the same cases on
# shared memory and on Redis, standalone and cluster.
$backends = if ($env:MEMALLOC_TEST_BACKENDS) { $env:MEMALLOC_TEST_BACKENDS -split ',' | ForEach-Object Trim } else { 'SharedMemory', 'Redis', 'RedisCluster' }
$containers = foreach ($file in Get-ChildItem -Path $TestPath -Filter '*.Tests.ps1' -File) {
    $parameters = (Get-Command -Name $file.FullName).Parameters
    if ($parameters -and $parameters.ContainsKey('Backend')) {
        foreach ($backend in $backends) { New-PesterContainer -Path $file.FullName -Data @{ Backend = $backend } }
    }
    else { New-PesterContainer -Path $file.FullName }
}

$configuration = New-PesterConfiguration
$configuration.Run.Container = @($containers)
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
if ($ResultPath) {
    $configuration.TestResult.Enabled = $true
    $configuration.TestResult.OutputFormat = 'NUnitXml'
    $configuration.TestResult.OutputPath = [System.IO.Path]::ChangeExtension($ResultPath, '.xml')
}
if ($Tag) { $configuration.Filter.Tag = $Tag -split ',' }
if ($ExcludeTag) { $configuration.Filter.ExcludeTag = $ExcludeTag -split ',' }

try {
    $result = Invoke-Pester -Configuration $configuration
}
finally {
    Stop-TestRedis
    Remove-Item -LiteralPath $env:XDG_CONFIG_HOME -Recurse -Force -ErrorAction Ignore
}
if (-not $ResultPath) { return }
if ($null -eq $result) {
    # Invoke-Pester failed after running (its NUnit export refuses a failure message with an ANSI escape, say): the
    # run cannot be counted, so it is one failure, never an empty count that reads as success.
    [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; NotRun = 0 } | ConvertTo-Json | Set-Content -LiteralPath $ResultPath
    return
}
# A container that fails before any of its tests could fail (a syntax error, say) counts as one failure,
# not as nothing; a throwing BeforeAll already marks its tests failed.
$brokenContainers = @($result.Containers | Where-Object { $_.Result -eq 'Failed' -and $_.FailedCount -eq 0 }).Count
$failed = $result.FailedCount + $brokenContainers
[pscustomobject]@{
    Passed  = $result.PassedCount
    Failed  = $failed
    # Skipped: tests that skipped themselves (-Skip, Set-ItResult -Skipped). NotRun: tests the tag filter left
    # out (Stress in the Test task), reported apart: they were not run by design.
    Skipped = $result.SkippedCount
    NotRun  = $result.NotRunCount
} | ConvertTo-Json | Set-Content -LiteralPath $ResultPath
