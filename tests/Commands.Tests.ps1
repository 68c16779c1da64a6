# Conventions every cmdlet shares: class names (they make the error ids), [OutputType], ShouldProcess, -Store.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'The Memalloc cmdlets' {
    It '<Name> is implemented by Memalloc.Commands.<Class>' -TestCases @(
        @{ Name = 'Set-MemStack'; Class = 'SetMemStackCommand' }
        @{ Name = 'Get-MemStack'; Class = 'GetMemStackCommand' }
        @{ Name = 'Remove-MemStack'; Class = 'RemoveMemStackCommand' }
        @{ Name = 'Test-MemStack'; Class = 'TestMemStackCommand' }
        @{ Name = 'Get-MemStackInfo'; Class = 'GetMemStackInfoCommand' }
        @{ Name = 'Update-MemStack'; Class = 'UpdateMemStackCommand' }
        @{ Name = 'Get-MemStore'; Class = 'GetMemStoreCommand' }
        @{ Name = 'Remove-MemStore'; Class = 'RemoveMemStoreCommand' }
        @{ Name = 'Register-MemStore'; Class = 'RegisterMemStoreCommand' }
        @{ Name = 'Unregister-MemStore'; Class = 'UnregisterMemStoreCommand' }
        @{ Name = 'Export-MemStore'; Class = 'ExportMemStoreCommand' }
        @{ Name = 'Import-MemStore'; Class = 'ImportMemStoreCommand' }
    ) {
        param ($Name, $Class)
        $command = Get-Command -Name $Name -Module Memalloc
        $command.ImplementingType.FullName | Should -BeExactly "Memalloc.Commands.$Class"
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It '<Name> declares its output type <Type>' -TestCases @(
        @{ Name = 'Get-MemStackInfo'; Type = 'Memalloc.MemStackInfo' }
        @{ Name = 'Set-MemStack'; Type = 'Memalloc.MemStackInfo' }
        @{ Name = 'Get-MemStore'; Type = 'Memalloc.MemStoreInfo' }
        @{ Name = 'Test-MemStack'; Type = 'System.Boolean' }
        @{ Name = 'Export-MemStore'; Type = 'System.IO.FileInfo' }
        @{ Name = 'Import-MemStore'; Type = 'Memalloc.MemStackInfo' }
    ) {
        param ($Name, $Type)
        (Get-Command -Name $Name).OutputType.Name | Should -Contain $Type
    }

    It 'supports -WhatIf and -Confirm exactly on the commands that change something' {
        $changing = Get-Command -Module Memalloc | Where-Object { $_.Parameters.ContainsKey('WhatIf') } |
            ForEach-Object Name | Sort-Object
        $changing | Should -Be @('Export-MemStore', 'Import-MemStore', 'Register-MemStore', 'Remove-MemStack', 'Remove-MemStore', 'Set-MemStack', 'Unregister-MemStore', 'Update-MemStack')
    }

    It '<Name> takes -Store with store-name completion' -TestCases @(
        @{ Name = 'Set-MemStack' }, @{ Name = 'Get-MemStack' }, @{ Name = 'Remove-MemStack' },
        @{ Name = 'Test-MemStack' }, @{ Name = 'Get-MemStackInfo' }, @{ Name = 'Update-MemStack' }
    ) {
        param ($Name)
        $store = (Get-Command -Name $Name).Parameters['Store']
        $store.ParameterType | Should -Be ([string])
        ($store.Attributes | Where-Object { $_ -is [ArgumentCompleter] }).Type.Name | Should -BeExactly 'MemStoreNameCompleter'
    }

    It 'takes -Store by property name on the readers but not on Set-MemStack' {
        $byProperty = { param ($Name) ((Get-Command $Name).Parameters['Store'].Attributes | Where-Object { $_ -is [Parameter] }).ValueFromPipelineByPropertyName }
        & $byProperty 'Get-MemStack' | Should -BeTrue
        & $byProperty 'Remove-MemStack' | Should -BeTrue
        & $byProperty 'Set-MemStack' | Should -BeFalse
    }
}
