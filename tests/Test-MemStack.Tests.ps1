# Runs once per backend (tools/PesterTest.ps1): the same cases on shared memory and on Redis.
param ([string] $Backend = 'SharedMemory')

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStore -Backend $Backend
    $CommandId = 'Memalloc.Commands.TestMemStackCommand'
    Set-MemStack -Name 'present' -Value 1 -Store $Store
    Set-MemStack -Name 'holds-null' -Value $null -Store $Store
}

AfterAll {
    Remove-TestStore $Store
}

Describe "Test-MemStack ($Backend)" {
    It 'is true for an existing stack' {
        Test-MemStack -Name 'present' -Store $Store | Should -BeTrue
        Test-MemStack 'present' -Store $Store | Should -BeOfType [bool]
    }

    It 'is true for a stack that holds $null' {
        Test-MemStack -Name 'holds-null' -Store $Store | Should -BeTrue
    }

    It 'takes several names and answers one bool per name, in order (issue 10 convention)' {
        Test-MemStack -Name 'present', 'absent', 'holds-null' -Store $Store | Should -Be @($true, $false, $true)
        'absent', 'present' | Test-MemStack -Store $Store | Should -Be @($false, $true)
    }

    It 'is false, never an error, for a missing stack' {
        Test-MemStack -Name 'absent' -Store $Store -ErrorVariable err | Should -BeFalse
        $err | Should -BeNullOrEmpty
    }

    It 'is false for a store that does not exist, and does not create it' {
        $newStore = New-TestStoreName
        Test-MemStack -Name 'present' -Store $newStore | Should -BeFalse
        Get-MemStore -Name $newStore -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'takes the name literally' {
        Test-MemStack -Name 'pres*' -Store $Store | Should -BeFalse
        Set-MemStack -Name 'star*' -Value 1 -Store $Store
        Test-MemStack -Name 'star*' -Store $Store | Should -BeTrue
    }

    It 'is case-sensitive' {
        Test-MemStack -Name 'PRESENT' -Store $Store | Should -BeFalse
    }

    It 'takes names from the pipeline' {
        'present', 'absent' | Test-MemStack -Store $Store | Should -Be @($true, $false)
        [pscustomobject]@{ Name = 'present'; Store = $Store } | Test-MemStack | Should -BeTrue
    }

    It 'is false after the stack was removed' {
        Set-MemStack -Name 'short' -Value 1 -Store $Store
        Remove-MemStack -Name 'short' -Store $Store
        Test-MemStack -Name 'short' -Store $Store | Should -BeFalse
    }

    It 'becomes false when the time to live ends' {
        Set-MemStack -Name 'expiring' -Value 1 -TimeToLive '00:00:00.2' -Store $Store
        Wait-Until { -not (Test-MemStack -Name 'expiring' -Store $Store) } | Should -BeTrue
    }

    It 'stops at an invalid name with InvalidName' {
        { Test-MemStack -Name '' -Store $Store } | Should -Throw -ErrorId "InvalidName,$CommandId"
    }

    It 'stops at an invalid store name with InvalidStoreName' {
        { Test-MemStack -Name 'x' -Store 'a b' } | Should -Throw -ErrorId "InvalidStoreName,$CommandId"
    }
}
