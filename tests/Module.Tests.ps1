# The built module as a user receives it: manifest, import in a fresh pwsh, package and install.
BeforeAll {
    $script:module = Get-Module -ListAvailable -Name Memalloc | Select-Object -First 1
    $script:manifestPath = Join-Path $module.ModuleBase 'Memalloc.psd1'
    $script:pwsh = Join-Path $PSHOME 'pwsh'
    $script:expectedCmdlets = @(
        'Export-MemStore', 'Get-MemLock', 'Get-MemStack', 'Get-MemStackInfo', 'Get-MemStore', 'Import-MemStore',
        'Receive-MemQueue', 'Register-MemStore', 'Remove-MemStack', 'Remove-MemStore', 'Send-MemQueue', 'Set-MemStack',
        'Test-MemStack', 'Test-MemStore', 'Unregister-MemStore', 'Update-MemStack', 'Use-MemLock', 'Wait-MemStack')
}

Describe 'The module manifest' {
    It 'is found on PSModulePath in the build output, not the source tree' {
        $module | Should -Not -BeNullOrEmpty
        $module.ModuleBase | Should -Match ([regex]::Escape([IO.Path]::Combine('out', 'Memalloc')))
    }

    It 'passes Test-ModuleManifest' {
        { Test-ModuleManifest -Path $manifestPath -ErrorAction Stop } | Should -Not -Throw
    }

    It 'declares <Setting>' -TestCases @(
        @{ Setting = 'PowerShellVersion'; Expected = '7.4' }
        @{ Setting = 'CompatiblePSEditions'; Expected = 'Core' }
        @{ Setting = 'FunctionsToExport'; Expected = $null }
        @{ Setting = 'VariablesToExport'; Expected = $null }
        @{ Setting = 'AliasesToExport'; Expected = $null }
    ) {
        param($Setting, $Expected)
        $data = Import-PowerShellDataFile -LiteralPath $manifestPath
        if ($null -eq $Expected) { @($data[$Setting]).Count | Should -Be 0 }
        else { $data[$Setting] | Should -Be $Expected }
    }

    It 'lists exactly the eighteen cmdlets' {
        $data = Import-PowerShellDataFile -LiteralPath $manifestPath
        $data.CmdletsToExport | Sort-Object | Should -Be $expectedCmdlets
    }

    It 'carries the gallery tags and links' {
        $psData = (Import-PowerShellDataFile -LiteralPath $manifestPath).PrivateData.PSData
        foreach ($tag in 'Linux', 'MacOS', 'SharedMemory', 'IPC', 'Cache') { $psData.Tags | Should -Contain $tag }
        $psData.ProjectUri | Should -Not -BeNullOrEmpty
        $psData.ReleaseNotes | Should -Match 'CHANGELOG'
    }

    It 'ships the manifest, both assemblies, format data and help' {
        foreach ($file in 'Memalloc.psd1', 'Memalloc.psm1', 'Memalloc.dll', 'Memalloc.Core.dll', 'Memalloc.Format.ps1xml',
            'en-US/Memalloc.dll-Help.xml', 'en-US/about_Memalloc.help.txt') {
            Join-Path $module.ModuleBase $file | Should -Exist
        }
    }

    It 'ships the Redis backend in redis/, without a second Memalloc.Core (its AssemblyLoadContext takes the default one)' {
        foreach ($file in 'Memalloc.Redis.dll', 'StackExchange.Redis.dll', 'System.IO.Hashing.dll') {
            Join-Path $module.ModuleBase 'redis' $file | Should -Exist
        }
        Join-Path $module.ModuleBase 'redis' 'Memalloc.Core.dll' | Should -Not -Exist
    }
}

Describe 'Importing the built module in a new pwsh' {
    It 'exports the eighteen cmdlets and nothing else' {
        $exported = & $pwsh -NoProfile -NonInteractive -Command "Import-Module '$manifestPath' -ErrorAction Stop; (Get-Command -Module Memalloc).Name | Sort-Object"
        $LASTEXITCODE | Should -Be 0
        $exported | Should -Be $expectedCmdlets
    }
}

Describe 'The package' -Tag 'Slow' {
    It 'installs with Install-PSResource from a local repository, and the installed module imports' {
        $repoRoot = Split-Path -Parent $PSScriptRoot
        $isolatedHome = Join-Path $TestDrive 'home'
        $packages = Join-Path $TestDrive 'packages'
        $null = New-Item -ItemType Directory -Path $isolatedHome
        # A separate HOME keeps the repository registration and the CurrentUser install out of the real profile.
        # The process working directory too: PSResourceGet's NuGet layer writes NuGet/NuGet.Config beside it on Linux.
        $script = @"
`$ErrorActionPreference = 'Stop'
[System.Environment]::CurrentDirectory = '$TestDrive'
& '$(Join-Path $repoRoot 'tools' 'New-ModulePackage.ps1')' -ModuleDir '$($module.ModuleBase)' -OutputDir '$packages' | Out-Null
Register-PSResourceRepository -Name LocalTest -Uri '$packages' -Trusted
Install-PSResource -Name Memalloc -Repository LocalTest -Scope CurrentUser -TrustRepository
"@
        $savedHome = $env:HOME
        $savedModulePath = $env:PSModulePath
        try {
            $env:HOME = $isolatedHome
            $env:PSModulePath = Join-Path $PSHOME 'Modules'
            & $pwsh -NoProfile -NonInteractive -Command $script
            $LASTEXITCODE | Should -Be 0
            Get-ChildItem -LiteralPath $packages -Filter 'Memalloc.*.nupkg' | Should -HaveCount 1
            $imported = & $pwsh -NoProfile -NonInteractive -Command "Import-Module Memalloc -ErrorAction Stop; (Get-Module Memalloc).ModuleBase"
            $LASTEXITCODE | Should -Be 0
            $imported | Should -BeLike "$isolatedHome*"
        }
        finally {
            $env:HOME = $savedHome
            $env:PSModulePath = $savedModulePath
        }
    }
}
