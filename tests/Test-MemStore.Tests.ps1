# Test-MemStore: the store's integrity walk (MemStore.Verify), which users could not reach before issue 10.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStoreName
    $Broken = New-TestStoreName
    $CommandId = 'Memalloc.Commands.TestMemStoreCommand'
    $Shm = Join-Path $PSScriptRoot 'faults' 'shm.py'
    Set-MemStack -Name 'a' -Value 1 -Store $Store
    Set-MemStack -Name 'b' -Value @{ x = 'y' } -Store $Store

    function Invoke-Shm {
        $out = & python3 $Shm @args
        if ($LASTEXITCODE -ne 0) { throw "shm.py $args failed: $out" }
        $out | ConvertFrom-Json
    }
}

AfterAll {
    Remove-TestStore $Store, $Broken
}

Describe 'Test-MemStore' {
    It 'is $true for a sound store, by name or from the pipeline' {
        Test-MemStore -Name $Store | Should -BeExactly $true
        Get-MemStore -Name $Store | Test-MemStore | Should -BeExactly $true
        $Store | Test-MemStore | Should -BeOfType [bool]
    }

    It 'emits nothing with -Detailed when the store is sound' {
        Test-MemStore -Name $Store -Detailed | Should -BeNullOrEmpty
    }

    It 'tests every store of the user without -Name, and the stores a wildcard matches' {
        $all = @(Test-MemStore)
        $all.Count | Should -Be @(Get-MemStore | Where-Object { -not $_.Orphaned }).Count
        Test-MemStore -Name "$($Store.Substring(0, 15))*" | Should -Not -BeNullOrEmpty
        Test-MemStore -Name 'no-such-store-*' -ErrorVariable err | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty
    }

    It 'writes a non-terminating MemStoreNotFound for a missing store, and does not create it' {
        $missing = New-TestStoreName
        Test-MemStore -Name $missing, $Store -ErrorVariable err -ErrorAction SilentlyContinue | Should -Be @($true)
        $err[0].FullyQualifiedErrorId | Should -BeExactly "MemStoreNotFound,$CommandId"
        Get-MemStore -Name $missing -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'finds a corrupted value: $false, and with -Detailed the problem as an object' -Skip:(-not (Test-Path /usr/bin/python3)) {
        Set-MemStack -Name 'victim' -Value 'Q7Q7-corrupt-me-Q7Q7' -Store $Broken
        $info = Get-MemStore -Name $Broken
        $arena = if ($info.ArenaObjects) { $info.ArenaObjects[0] } else { $info.SegmentIds[1] }   # System V or POSIX arena
        $hex = [Convert]::ToHexString([Text.Encoding]::UTF8.GetBytes('Q7Q7-corrupt-me'))
        $at = (Invoke-Shm search $arena $hex).offsets
        $at | Should -Not -BeNullOrEmpty
        (Invoke-Shm write $arena ($at[0] + 1) '38').ok | Should -BeTrue   # the first '7' becomes '8'

        Test-MemStore -Name $Broken | Should -BeExactly $false
        $problems = @(Test-MemStore -Name $Broken -Detailed)
        $problems.Count | Should -BeGreaterThan 0
        $problems[0] | Should -BeOfType 'Memalloc.MemStoreProblem'
        $problems[0].Store | Should -BeExactly $Broken
        ($problems.Problem -join "`n") | Should -Match 'checksum'
        ($problems | Out-String -Width 200) | Should -Match 'Store\s+Problem'
    }

    It 'refuses an invalid store name with InvalidStoreName' {
        Test-MemStore -Name 'bad name' -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidStoreName,$CommandId"
    }

    It 'completes -Name with existing stores' {
        Get-CompletionText "Test-MemStore -Name $Store" | Should -Be @($Store)
    }
}
