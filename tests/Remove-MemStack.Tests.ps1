# Runs once per backend (tools/PesterTest.ps1): the same cases on shared memory and on Redis.
param ([string] $Backend = 'SharedMemory')

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStore -Backend $Backend
    $CommandId = 'Memalloc.Commands.RemoveMemStackCommand'
}

AfterAll {
    Remove-TestStore $Store
}

Describe "Remove-MemStack ($Backend)" {
    BeforeEach {
        Get-MemStackInfo -Store $Store | Remove-MemStack
        'job-1', 'job-2', 'job-3', 'keep' | ForEach-Object { Set-MemStack -Name $_ -Value $_ -Store $Store }
    }

    It 'removes a stack by position and returns nothing' {
        Remove-MemStack 'keep' -Store $Store | Should -BeNullOrEmpty
        Test-MemStack -Name 'keep' -Store $Store | Should -BeFalse
    }

    It 'removes several names' {
        Remove-MemStack -Name 'job-1', 'job-2' -Store $Store
        (Get-MemStackInfo -Store $Store).Name | Should -Be @('job-3', 'keep')
    }

    It 'removes the matches of a wildcard' {
        Remove-MemStack -Name 'job-*' -Store $Store
        (Get-MemStackInfo -Store $Store).Name | Should -Be @('keep')
    }

    It 'takes names from the pipeline by value' {
        'job-1', 'job-3' | Remove-MemStack -Store $Store
        (Get-MemStackInfo -Store $Store).Name | Should -Be @('job-2', 'keep')
    }

    It 'takes names and store from Get-MemStackInfo by property name' {
        Get-MemStackInfo 'job*' -Store $Store | Remove-MemStack
        (Get-MemStackInfo -Store $Store).Name | Should -Be @('keep')
    }

    It 'removes a stack that holds $null' {
        Set-MemStack -Name 'null' -Value $null -Store $Store
        Remove-MemStack -Name 'null' -Store $Store
        Test-MemStack -Name 'null' -Store $Store | Should -BeFalse
    }

    It '-WhatIf changes nothing' {
        Remove-MemStack -Name 'keep', 'job-*' -Store $Store -WhatIf
        (Get-MemStackInfo -Store $Store).Count | Should -Be 4
    }

    It '-Confirm:$false removes without asking' {
        Remove-MemStack -Name 'keep' -Store $Store -Confirm:$false
        Test-MemStack -Name 'keep' -Store $Store | Should -BeFalse
    }

    It 'is silent when a wildcard matches nothing' {
        Remove-MemStack -Name 'none-*' -Store $Store -ErrorVariable err
        $err | Should -BeNullOrEmpty
        (Get-MemStackInfo -Store $Store).Count | Should -Be 4
    }

    It 'writes a non-terminating MemStackNotFound for a missing name and goes on' {
        Remove-MemStack -Name 'missing', 'keep' -Store $Store -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeExactly "MemStackNotFound,$CommandId"
        $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::ObjectNotFound)
        Test-MemStack -Name 'keep' -Store $Store | Should -BeFalse
    }

    It 'throws MemStackNotFound with -ErrorAction Stop' {
        { Remove-MemStack -Name 'missing' -Store $Store -ErrorAction Stop } | Should -Throw -ErrorId "MemStackNotFound,$CommandId"
    }

    It 'reports MemStackNotFound in a store that does not exist, without creating it' {
        $newStore = New-TestStoreName
        { Remove-MemStack -Name 'x' -Store $newStore -ErrorAction Stop } | Should -Throw -ErrorId "MemStackNotFound,$CommandId"
        Get-MemStore -Name $newStore -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'stops at an invalid name with InvalidName' {
        { Remove-MemStack -Name "a`nb" -Store $Store } | Should -Throw -ErrorId "InvalidName,$CommandId"
    }
}
