#Requires -Version 7.4
<#
.SYNOPSIS
Restores the pinned build and test modules and returns the path of each one's manifest, by package name.

.DESCRIPTION
tools/BuildModules.csproj is the one place their versions are pinned (as PackageDownload items); restoring
it puts each package into the NuGet cache, where the module sits in the package's tools/ folder. Returns a
hashtable such as @{ 'Invoke-Build' = '.../invoke-build/5.14.23/tools/InvokeBuild.psd1'; Pester = '...' }.
#>
[CmdletBinding()]
[OutputType([hashtable])]
param ()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$project = Join-Path $PSScriptRoot 'BuildModules.csproj'
$output = & dotnet restore $project --verbosity quiet 2>&1
if ($LASTEXITCODE -ne 0) { throw "Restoring the build tools ($project) failed: $($output -join "`n")" }

$packageRoot = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES }
else { ((& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim() }

$tools = @{}
foreach ($package in ([xml] (Get-Content -LiteralPath $project -Raw)).Project.ItemGroup.PackageDownload) {
    $version = $package.Version.Trim('[', ']')
    $folder = Join-Path $packageRoot $package.Include.ToLowerInvariant() $version 'tools'
    $manifest = @(Get-ChildItem -Path (Join-Path $folder '*.psd1') -ErrorAction Ignore)
    if ($manifest.Count -ne 1) { throw "$($package.Include) $version was restored but $folder holds no single module manifest." }
    $tools[$package.Include] = $manifest[0].FullName
}
$tools
