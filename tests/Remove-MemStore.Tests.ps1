BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $CommandId = 'Memalloc.Commands.RemoveMemStoreCommand'
    $Created = [System.Collections.Generic.List[string]]::new()
    function New-FilledStore {
        $name = New-TestStoreName
        $Created.Add($name)
        Set-MemStack -Name 'a' -Value 1 -Store $name
        $name
    }
}

AfterAll {
    Remove-TestStore $Created
}

Describe 'Remove-MemStore' {
    It 'is ConfirmImpact High' {
        $metadata = [System.Management.Automation.CommandMetadata]::new((Get-Command Remove-MemStore))
        $metadata.ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]::High)
    }

    It 'removes a store with -Force and returns nothing' {
        $store = New-FilledStore
        Remove-MemStore -Name $store -Force | Should -BeNullOrEmpty
        (Get-MemStore -ErrorAction SilentlyContinue).Name | Should -Not -Contain $store
        Test-MemStack -Name 'a' -Store $store | Should -BeFalse
    }

    It 'removes a store with -Confirm:$false' {
        $store = New-FilledStore
        Remove-MemStore -Name $store -Confirm:$false
        (Get-MemStore -ErrorAction SilentlyContinue).Name | Should -Not -Contain $store
    }

    It 'removes several stores and stores from the pipeline' {
        $first = New-FilledStore
        $second = New-FilledStore
        $third = New-FilledStore
        Remove-MemStore -Name $first, $second -Force
        Get-MemStore -Name $third | Remove-MemStore -Force
        $names = (Get-MemStore -ErrorAction SilentlyContinue).Name
        $names | Should -Not -Contain $first
        $names | Should -Not -Contain $second
        $names | Should -Not -Contain $third
    }

    It 'removes the stores a wildcard matches' {
        $store = New-FilledStore
        Remove-MemStore -Name "$($store.Substring(0, 17))*" -Force
        (Get-MemStore -ErrorAction SilentlyContinue).Name | Should -Not -Contain $store
    }

    It '-WhatIf changes nothing, even with -Force' {
        $store = New-FilledStore
        Remove-MemStore -Name $store -WhatIf
        Remove-MemStore -Name $store -Force -WhatIf
        Get-MemStack -Name 'a' -Store $store | Should -Be 1
    }

    It 'lets a writer make the store again afterwards' {
        $store = New-FilledStore
        Remove-MemStore -Name $store -Force
        Set-MemStack -Name 'b' -Value 2 -Store $store
        Get-MemStack -Name 'b' -Store $store | Should -Be 2
        Test-MemStack -Name 'a' -Store $store | Should -BeFalse
    }

    # Issue 9, defect 7 (StoreCache.Forget): a session that removes and re-creates stores must detach what it
    # dropped, whether it removed the store itself or another process did (the core's DestroyStore stands in for
    # that process: the cached instance then meets StoreRemoved). Counted in a child pwsh from its own mappings.
    It 'does not keep removed stores attached in a long session' {
        $store = New-TestStoreName
        $Created.Add($store)
        $counts = Invoke-ChildPwsh (
            "function Get-SysVMappingCount { @(Get-Content -LiteralPath /proc/self/maps | Where-Object { `$_ -match '/SYSV' }).Count }; " +
            "Set-MemStack -Name 'a' -Value 0 -Store '$store'; `$before = Get-SysVMappingCount; " +
            "foreach (`$i in 1..30) { " +
            "  Remove-MemStore -Name '$store' -Force; Set-MemStack -Name 'a' -Value `$i -Store '$store'; " +
            "  `$null = [Memalloc.Core.MemStore]::DestroyStore('$store'); Set-MemStack -Name 'a' -Value `$i -Store '$store' }; " +
            "`"`$before `$(Get-SysVMappingCount)`"")
        $before, $after = "$counts".Split(' ') | ForEach-Object { [int] $_ }
        $before | Should -BeGreaterThan 0
        $after | Should -BeLessOrEqual $before -Because "60 removals must not leave their segments attached ($before mappings before, $after after)"
    }

    It 'writes a non-terminating MemStoreNotFound for a missing store' {
        $missing = New-TestStoreName
        Remove-MemStore -Name $missing -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeExactly "MemStoreNotFound,$CommandId"
        $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::ObjectNotFound)
        { Remove-MemStore -Name $missing -Force -ErrorAction Stop } | Should -Throw -ErrorId "MemStoreNotFound,$CommandId"
    }

    It 'is silent when a wildcard matches no store' {
        Remove-MemStore -Name 'no-such-store-*' -Force -ErrorVariable err
        $err | Should -BeNullOrEmpty
    }

    It 'stops at an invalid store name with InvalidStoreName' {
        { Remove-MemStore -Name 'bad/name' -Force } | Should -Throw -ErrorId "InvalidStoreName,$CommandId"
    }
}
