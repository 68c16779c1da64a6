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

# PSResourceGet's NuGet layer writes a default NuGet/NuGet.Config relative to the process's working
# directory on Linux (its ApplicationData folder resolves to ''): give it a scratch one, not the repo.
$scratch = Join-Path $OutputDir '.publish'
$null = New-Item -ItemType Directory -Path $scratch -Force
$savedDirectory = [System.Environment]::CurrentDirectory
$repository = "MemallocBuild$PID"
Register-PSResourceRepository -Name $repository -Uri $OutputDir -Trusted
try {
    [System.Environment]::CurrentDirectory = $scratch
    Publish-PSResource -Path $ModuleDir -Repository $repository -SkipDependenciesCheck
}
finally {
    [System.Environment]::CurrentDirectory = $savedDirectory
    Unregister-PSResourceRepository -Name $repository
    Remove-Item -LiteralPath $scratch -Recurse -Force -ErrorAction Ignore
}
Get-ChildItem -LiteralPath $OutputDir -Filter "$moduleName.*.nupkg"
