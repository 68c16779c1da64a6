#Requires -Version 7.4
<#
.SYNOPSIS
Turns the platyPS markdown in docs/en-US into the module's external help (MAML and about_ topics).

.DESCRIPTION
Every document is first checked against platyPS's schema (tools/HelpMarkdown.psm1), so that docs that drift
from it break the build whichever converter runs. Where platyPS is installed, this then hands the folder to
its New-ExternalHelp. platyPS cannot be installed on the build machines (it is not in the NuGet registry), so
otherwise tools/HelpConverter.psm1 converts the same markdown: every <Verb-Noun>.md becomes a command:command
in <Module>.dll-Help.xml, laid out as platyPS 0.14 lays it out, and every about_*.md becomes about_*.help.txt.
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $SourcePath,
    [Parameter(Mandatory)] [string] $DestinationPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if (-not (Test-Path -LiteralPath $SourcePath -PathType Container)) {
    throw "Help source folder '$SourcePath' does not exist."
}
Import-Module (Join-Path $PSScriptRoot 'HelpMarkdown.psm1') -Force
$problems = @(Get-ChildItem -LiteralPath $SourcePath -Filter '*.md' -File | ForEach-Object { Get-HelpSchemaProblem -Path $_.FullName })
if ($problems) { throw "docs do not follow platyPS's schema:$([Environment]::NewLine)$($problems -join [Environment]::NewLine)" }
$null = New-Item -ItemType Directory -Path $DestinationPath -Force

$platyPS = Get-Module -ListAvailable -Name platyPS | Sort-Object Version -Descending | Select-Object -First 1
if ($platyPS) {
    Write-Verbose "Using platyPS $($platyPS.Version) from $($platyPS.ModuleBase)."
    Import-Module $platyPS -ErrorAction Stop
    $null = New-ExternalHelp -Path $SourcePath -OutputPath $DestinationPath -Force
}
else {
    Write-Verbose 'platyPS is not installed; using tools/HelpConverter.psm1.'
    Import-Module (Join-Path $PSScriptRoot 'HelpConverter.psm1') -Force
    ConvertTo-ExternalHelp -SourcePath $SourcePath -DestinationPath $DestinationPath -Verbose:($VerbosePreference -eq 'Continue')
}
