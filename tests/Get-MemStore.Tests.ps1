BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStoreName
    $OtherStore = New-TestStoreName
    $CommandId = 'Memalloc.Commands.GetMemStoreCommand'
    Set-MemStack -Name 'a' -Value 'x' -Store $Store
    Set-MemStack -Name 'b' -Value ('y' * 1000) -Store $Store
    Set-MemStack -Name 'a' -Value 1 -Store $OtherStore
}

AfterAll {
    Remove-TestStore $Store, $OtherStore
}

Describe 'Get-MemStore' {
    It 'emits Memalloc.MemStoreInfo with the statistics' {
        $info = Get-MemStore -Name $Store
        $info | Should -BeOfType 'Memalloc.MemStoreInfo'
        $info.Name | Should -BeExactly $Store
        $info.Entries | Should -Be 2
        $info.SegmentIds.Count | Should -BeGreaterThan 0
        $info.Capacity | Should -BeGreaterThan 0
        $info.MaxCapacity | Should -BeGreaterOrEqual $info.Capacity
        $info.BytesUsed | Should -BeGreaterThan 1000
        $info.BytesFree | Should -BeGreaterThan 0
        $info.Generation | Should -BeGreaterOrEqual 0
        $info.Permissions | Should -BeExactly 'rw-------'
        $info.Owner | Should -Not -BeNullOrEmpty
        $info.OwnerUid | Should -Be ([int](& id -u))
        , $info.Warnings | Should -BeOfType [string[]]
    }

    # Other stores of this user (other suites, other tools) may be in any state: only ours are asserted on.
    It 'lists every store of the user without -Name, ours among them' {
        $names = (Get-MemStore -ErrorAction SilentlyContinue).Name
        $names | Should -Contain $Store
        $names | Should -Contain $OtherStore
    }

    It 'matches wildcards' {
        $prefix = $Store.Substring(0, 17)
        (Get-MemStore -Name "$prefix*").Name | Should -Contain $Store
        Get-MemStore -Name 'no-such-store-*' -ErrorVariable err | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty
    }

    It 'takes several names and names from the pipeline' {
        (Get-MemStore -Name $Store, $OtherStore).Name | Should -Be @($Store, $OtherStore)
        ($OtherStore | Get-MemStore).Name | Should -BeExactly $OtherStore
    }

    It 'counts entries as they change' {
        Set-MemStack -Name 'c' -Value 1 -Store $OtherStore
        (Get-MemStore -Name $OtherStore).Entries | Should -Be 2
        Remove-MemStack -Name 'c' -Store $OtherStore
        (Get-MemStore -Name $OtherStore).Entries | Should -Be 1
    }

    It 'writes a non-terminating MemStoreNotFound for a missing store and goes on' {
        $missing = New-TestStoreName
        $found = Get-MemStore -Name $missing, $Store -ErrorVariable err -ErrorAction SilentlyContinue
        $found.Name | Should -BeExactly $Store
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeExactly "MemStoreNotFound,$CommandId"
        $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::ObjectNotFound)
        $err[0].TargetObject | Should -BeExactly $missing
        { Get-MemStore -Name $missing -ErrorAction Stop } | Should -Throw -ErrorId "MemStoreNotFound,$CommandId"
    }

    It 'does not create a store it is asked about' {
        $missing = New-TestStoreName
        Get-MemStore -Name $missing -ErrorAction SilentlyContinue
        (Get-MemStore -ErrorAction SilentlyContinue).Name | Should -Not -Contain $missing
    }

    It 'stops at an invalid store name with InvalidStoreName' {
        { Get-MemStore -Name 'bad name' } | Should -Throw -ErrorId "InvalidStoreName,$CommandId"
        try { Get-MemStore -Name 'bad name' } catch { $caught = $_ }
        $caught.CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::InvalidArgument)
    }

    It 'completes -Name with existing stores, read afresh each time' {
        Get-CompletionText "Get-MemStore -Name $Store" | Should -Be @($Store)
        Get-CompletionText "Remove-MemStore -Name $OtherStore" | Should -Be @($OtherStore)
        $late = New-TestStoreName
        try {
            Get-CompletionText "Get-MemStore -Name $late" | Should -BeNullOrEmpty
            Set-MemStack -Name 'x' -Value 1 -Store $late
            Get-CompletionText "Get-MemStore -Name $late" | Should -Be @($late)
        }
        finally {
            Remove-TestStore $late
        }
    }

    It 'formats as a table by default' {
        $text = Get-MemStore -Name $Store | Out-String -Width 200
        $text | Should -Match 'Name\s+Backend\s+Key\s+Entries\s+BytesUsed\s+Capacity\s+Permissions\s+Owner'
        $text | Should -Match '0x[0-9a-f]{8}'
    }
}

Describe 'Issue 10 defect 8: Entries counts live stacks only' {
    BeforeAll { $ExpiryStore = New-TestStoreName }
    AfterAll { Remove-TestStore $ExpiryStore }

    It 'does not count a stack that expired and was not reclaimed yet, and shows it separately' {
        Set-MemStack -Name 'stays' -Value 1 -Store $ExpiryStore
        Set-MemStack -Name 'expires' -Value 2 -TimeToLive ([TimeSpan]::FromMilliseconds(200)) -Store $ExpiryStore
        Wait-Until { -not (Test-MemStack -Name 'expires' -Store $ExpiryStore) } | Should -BeTrue
        $info = Get-MemStore -Name $ExpiryStore
        $info.Entries | Should -Be @(Get-MemStackInfo -Store $ExpiryStore).Count
        $info.Entries | Should -Be 1
        $info.ExpiredEntries | Should -Be 1
    }
}

Describe 'Issue 10 defect 9: a store shrinks when most of its data is removed' {
    BeforeAll {
        $ShrinkStore = New-TestStoreName
        # Bytes of a store's System V segments (shmids) and POSIX arena objects (names, files in /dev/shm) that still exist.
        function Get-SegmentBytes([int[]] $ShmId, [string[]] $ObjectName) {
            $segments = Get-SysVSegment
            $objects = @($ObjectName | Where-Object { $_ } | ForEach-Object { Get-Item -LiteralPath "/dev/shm$_" -ErrorAction Ignore })
            [pscustomobject]@{
                Total   = ($ShmId | Where-Object { $segments.ContainsKey($_) } | ForEach-Object { $segments[$_].Size } | Measure-Object -Sum).Sum +
                    ($objects | Measure-Object -Property Length -Sum).Sum
                Present = @(@($ShmId | Where-Object { $segments.ContainsKey($_) }) + @($objects.Name))
            }
        }
    }
    AfterAll { Remove-TestStore $ShrinkStore }

    It 'gives the memory back after large values are removed, down to the starting size and no further' {
        Set-MemStack -Name 'small' -Value 'kept' -Store $ShrinkStore
        $start = Get-MemStore -Name $ShrinkStore
        $big = 'x' * 1MB
        1..24 | ForEach-Object { Set-MemStack -Name "big-$_" -Value $big -Store $ShrinkStore }
        $grown = Get-MemStore -Name $ShrinkStore
        $grown.Capacity | Should -BeGreaterThan (16 * $start.Capacity)

        Remove-MemStack -Name 'big-*' -Store $ShrinkStore
        $shrunk = Get-MemStore -Name $ShrinkStore
        $shrunk.Capacity | Should -Be $start.Capacity -Because 'live data uses far under a quarter, and the floor is the starting size'
        Get-MemStack -Name 'small' -Store $ShrinkStore | Should -BeExactly 'kept'
        $segments = Get-SegmentBytes $shrunk.SegmentIds $shrunk.ArenaObjects
        $segments.Total | Should -BeLessOrEqual (3 * $start.Capacity + 4096)
        $old = Get-SegmentBytes @($grown.SegmentIds | Select-Object -Skip 1) $grown.ArenaObjects
        $old.Present | Should -BeNullOrEmpty -Because 'the large arena went back to the system'
        (Test-MemStore -Name $ShrinkStore) | Should -BeTrue
    }

    It 'does not shrink while live data uses a quarter or more' {
        $value = 'y' * 1MB
        $i = 0
        do { Set-MemStack -Name "half-$((++$i))" -Value $value -Store $ShrinkStore } while ((Get-MemStore -Name $ShrinkStore).Capacity -lt 16MB)
        $before = Get-MemStore -Name $ShrinkStore
        while ((Get-MemStore -Name $ShrinkStore).BytesUsed -lt 0.45 * $before.Capacity) {
            Set-MemStack -Name "half-$((++$i))" -Value $value -Store $ShrinkStore
        }
        Remove-MemStack -Name 'half-1' -Store $ShrinkStore
        $after = Get-MemStore -Name $ShrinkStore
        $after.BytesUsed * 4 | Should -BeGreaterThan $after.Capacity
        $after.Capacity | Should -Be $before.Capacity
    }
}
