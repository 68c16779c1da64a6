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

Describe 'Orphaned segments: shown by Get-MemStore, freed by Remove-MemStore (issue 10 convention)' {
    BeforeAll {
        # A store made (and left) by another process, whose anchor segment is then removed by hand, as 'ipcrm -m' does:
        # its arena (and spare, when it has one) stay behind. This process never attaches them. Arenas are shmids, or
        # names of POSIX arena objects when the store's backing is POSIX (the emulated-Mac pass).
        function New-OrphanedStore {
            $name = New-TestStoreName
            $lines = Invoke-ChildPwsh @"
Set-MemStack -Name a -Value 1 -Store '$name'
1..300 | ForEach-Object { Set-MemStack -Name b -Value ('x' * 3000) -Store '$name' }
`$info = Get-MemStore -Name '$name'
`$info.SegmentIds -join ','
`$info.ArenaObjects -join ','
"@
            $segments = @(($lines | Select-Object -Last 2 | Select-Object -First 1) -split ',' | ForEach-Object { [int] $_ })
            $objects = @(($lines | Select-Object -Last 1) -split ',' | Where-Object { $_ })
            & ipcrm -m $segments[0]
            $LASTEXITCODE | Should -Be 0
            [pscustomobject]@{ Name = $name; Anchor = $segments[0]; Arenas = @(@($segments | Select-Object -Skip 1) + $objects) }
        }

        # The arenas of a Get-MemStore entry, System V or POSIX.
        function Get-EntryArena($Entry) { @(@($Entry.SegmentIds) + @($Entry.ArenaObjects)) }

        # Whether an arena (a shmid, or a POSIX object's name) still exists.
        function Test-Arena($Arena) {
            if ($Arena -is [string]) { Test-Path -LiteralPath "/dev/shm$Arena" } else { (Get-SysVSegment).ContainsKey($Arena) }
        }
    }

    It 'lists the arena and spare of a store whose anchor was removed as one orphaned entry' {
        $orphan = New-OrphanedStore
        $orphan.Arenas.Count | Should -BeGreaterOrEqual 1
        $listed = @(Get-MemStore | Where-Object Orphaned | Where-Object { @(Get-EntryArena $_ | Where-Object { $_ -in $orphan.Arenas }).Count })
        $listed.Count | Should -Be 1
        $listed[0].Name | Should -Match '^orphaned:[0-9a-f]{8}$'
        @(Get-EntryArena $listed[0] | Sort-Object) | Should -Be @($orphan.Arenas | Sort-Object)
        $listed[0].Entries | Should -Be 2
        $listed[0].Warnings | Should -Match 'Remove-MemStore'
        @(Get-EntryArena (Get-MemStore -Name $listed[0].Name)).Count | Should -Be $orphan.Arenas.Count
        (Get-MemStore -Name 'orphaned:*').Name | Should -Contain $listed[0].Name
        (Get-MemStore -ErrorAction SilentlyContinue).Name | Should -Not -Contain $orphan.Name

        Remove-MemStore -Name $listed[0].Name -Force
        foreach ($arena in $orphan.Arenas) { Test-Arena $arena | Should -BeFalse -Because "arena $arena was freed" }
        Get-MemStore -Name $listed[0].Name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'frees orphans piped from Get-MemStore, and -WhatIf keeps them' {
        $orphan = New-OrphanedStore
        $entry = Get-MemStore | Where-Object Orphaned | Where-Object { (Get-EntryArena $_) -contains $orphan.Arenas[0] }
        $entry | Remove-MemStore -WhatIf
        Test-Arena $orphan.Arenas[0] | Should -BeTrue
        $entry | Remove-MemStore -Force
        Test-Arena $orphan.Arenas[0] | Should -BeFalse
    }

    It 'reports a missing orphan name as MemStoreNotFound' {
        { Remove-MemStore -Name 'orphaned:00000001' -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'MemStoreNotFound,Memalloc.Commands.RemoveMemStoreCommand'
    }

    It 'never takes a live store''s arena for an orphan' {
        $store = New-FilledStore
        $ids = Get-EntryArena (Get-MemStore -Name $store)
        Get-MemStore | Where-Object Orphaned | ForEach-Object { Get-EntryArena $_ } | Where-Object { $_ -in $ids } | Should -BeNullOrEmpty
    }
}
