#Requires -Version 7.4
<#
.SYNOPSIS
Writes the built module as a .nupkg into a folder, through a throw-away local PSResourceGet repository.

.DESCRIPTION
The .nupkg that Publish-PSResource writes is what Install-PSResource accepts from a local or remote
repository. The temporary repository registration is removed again, whatever happens.
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $ModuleDir,
    [Parameter(Mandatory)] [string] $OutputDir
)

$ErrorActionPreference = 'Stop'
$null = New-Item -ItemType Directory -Path $OutputDir -Force
$moduleName = Split-Path -Leaf (Split-Path -Parent $ModuleDir)
Get-ChildItem -LiteralPath $OutputDir -Filter "$moduleName.*.nupkg" | Remove-Item -Force

$repository = "MemallocBuild$PID"
Register-PSResourceRepository -Name $repository -Uri $OutputDir -Trusted
try {
    Publish-PSResource -Path $ModuleDir -Repository $repository -SkipDependenciesCheck
}
finally {
    Unregister-PSResourceRepository -Name $repository
}
Get-ChildItem -LiteralPath $OutputDir -Filter "$moduleName.*.nupkg"
