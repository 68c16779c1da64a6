#Requires -Version 7.4
<#
.SYNOPSIS
Turns the platyPS markdown in docs/en-US into the module's external help (MAML and about_ topics).

.DESCRIPTION
Where platyPS is installed, this hands the folder to its New-ExternalHelp. platyPS cannot be installed on
the build machines (no gallery), so otherwise it converts the same markdown itself with
tools/HelpConverter.psm1: every <Verb-Noun>.md becomes a command:command in <Module>.dll-Help.xml, laid
out as platyPS 0.14 lays it out, and every about_*.md becomes about_*.help.txt.

Either way the markdown is the one source; the converter reads only what platyPS's schema defines.
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
