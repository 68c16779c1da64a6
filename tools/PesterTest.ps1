#Requires -Version 7.4
# Runs the Pester suites in this (separate, clean) pwsh and writes the counts as JSON for build.ps1.
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string[]] $TestPath,
    [Parameter(Mandatory)] [string] $ResultPath,
    [string] $Tag,
    [string] $ExcludeTag
)

$ErrorActionPreference = 'Stop'
Import-Module -Name $PesterPath -MinimumVersion 5.7.1

$configuration = New-PesterConfiguration
$configuration.Run.Path = $TestPath
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputFormat = 'NUnitXml'
$configuration.TestResult.OutputPath = [System.IO.Path]::ChangeExtension($ResultPath, '.xml')
if ($Tag) { $configuration.Filter.Tag = $Tag -split ',' }
if ($ExcludeTag) { $configuration.Filter.ExcludeTag = $ExcludeTag -split ',' }

$result = Invoke-Pester -Configuration $configuration
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
