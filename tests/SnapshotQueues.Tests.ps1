BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'SnapshotHelpers.ps1')
    $ImportId = 'Memalloc.Commands.ImportMemStoreCommand'
    $ExportId = 'Memalloc.Commands.ExportMemStoreCommand'
    $Folder = New-SnapshotFolder
    $Stores = [System.Collections.Generic.List[string]]::new()
    function New-Store {
        $name = New-TestStoreName -Tag snapq
        $Stores.Add($name)
        $name
    }

    # Every item of a queue, taken in one receive (the import's order is what the receive gives).
    function Receive-All([string] $Queue, [string] $Store) {
        Receive-MemQueue -Name $Queue -Store $Store -Count ([int]::MaxValue)
    }
}

AfterAll {
    Remove-TestStore $Stores
    Remove-Item -LiteralPath $Folder -Recurse -Force
}

# Queues in snapshots (docs/snapshot-format.md, "Queues"): a queue is exported with its items, at the same instant as
# the stacks; held locks never are. Defect this file was written for: an export of a store holding a queue wrote its
# stacks only, silently, so an import gave the queue's items back to nobody.
Describe 'Snapshots of queues' {
    Context 'A store with stacks, queues and a held lock, exported while another process sends and receives' {
        BeforeAll {
            $Source = New-Store
            $Items = @(1, 'two', @{ three = 3 }, [datetime]::new(2026, 11, 29, 12, 0, 0, [System.DateTimeKind]::Utc), 5.5, @(6, 7))
            'alpha', 'beta' | ForEach-Object { Set-MemStack -Name "stack/$_" -Value "value of $_" -Store $Source }
            Set-MemStack -Name 'stack/table' -Value @{ a = 1; b = 'x' } -Store $Source
            $Items | ForEach-Object { Send-MemQueue -Name 'jobs' -Value $_ -Store $Source }
            Send-MemQueue -Name 'idle' -Value 'gone' -Store $Source
            $null = Receive-MemQueue -Name 'idle' -Store $Source  # an empty queue is still a queue
            $StacksBefore = Get-MemStackInfo -Store $Source | Where-Object Kind -EQ Stack | ForEach-Object {
                [pscustomobject]@{ Name = $_.Name; Value = (Get-MemStack -Name $_.Name -Store $Source | ConvertTo-Json -Compress) }
            }
            $JobsBefore = Get-MemStackInfo -Name 'jobs' -Store $Source

            $stop = Join-Path $Folder "stop-$Source"
            $locked = Join-Path $Folder "locked-$Source"
            # One process holds a lock for the whole export; another sends 1, 2, 3, ... to 'live' and receives from it.
            $holder = Start-ChildPwsh "Use-MemLock -Name 'nightly' -Store '$Source' -ScriptBlock { New-Item -ItemType File -Path '$locked' | Out-Null; while (-not (Test-Path '$stop')) { Start-Sleep -Milliseconds 20 } }"
            $traffic = Start-ChildPwsh @"
`$i = 0
while (-not (Test-Path '$stop')) {
    `$i++
    Send-MemQueue -Name 'live' -Value `$i -Store '$Source'
    if (`$i % 3 -eq 0) { `$null = Receive-MemQueue -Name 'live' -Store '$Source' }
}
`$i
"@
            try {
                Wait-Until { (Test-Path $locked) -and (Get-MemStackInfo -Name 'live' -Store $Source -ErrorAction Ignore).Count -ge 20 } | Should -BeTrue
                @(Get-MemLock -Store $Source).Name | Should -Be 'nightly'
                $Path = Join-Path $Folder 'with-queues.memsnap'
                Export-MemStore -Name $Source -Path $Path
                # Sent after the export: never in the file.
                Send-MemQueue -Name 'jobs' -Value 'after the export' -Store $Source
            }
            finally {
                New-Item -ItemType File -Path $stop | Out-Null
                $Sent = [int] ($traffic | Wait-ChildPwsh | Select-Object -Last 1)
                $null = $holder | Wait-ChildPwsh
            }
            $Target = New-Store
            Import-MemStore -Path $Path -Name $Target
        }

        It 'imports every stack unchanged' {
            $after = Get-MemStackInfo -Store $Target | Where-Object Kind -EQ Stack | ForEach-Object {
                [pscustomobject]@{ Name = $_.Name; Value = (Get-MemStack -Name $_.Name -Store $Target | ConvertTo-Json -Compress) }
            }
            $after.Name | Should -Be $StacksBefore.Name
            $after.Value | Should -Be $StacksBefore.Value
        }

        It 'keeps the queue''s times, count and bytes (looked at before anything is received)' {
            $info = Get-MemStackInfo -Name 'jobs' -Store $Target
            $info.Kind | Should -Be 'Queue'
            $info.Count | Should -Be $Items.Count
            $info.Size | Should -Be $JobsBefore.Size
            $info.Created | Should -Be $JobsBefore.Created
            $info.Modified | Should -Be $JobsBefore.Modified
        }

        It 'gives every item of a queue back in order, exactly once, and not the item sent after the export' {
            $back = @(Receive-All -Queue 'jobs' -Store $Target)
            $back | Should -HaveCount $Items.Count
            ($back | ConvertTo-Json -Compress -Depth 3) | Should -Be ($Items | ConvertTo-Json -Compress -Depth 3)
            $back[3] | Should -BeOfType [datetime]
            Receive-MemQueue -Name 'jobs' -Store $Target | Should -BeNullOrEmpty
        }

        It 'holds the queue a process was sending to and receiving from as it was at one instant' {
            $live = @(Receive-All -Queue 'live' -Store $Target | ForEach-Object { [int] $_ })
            $live.Count | Should -BeGreaterThan 0
            for ($i = 1; $i -lt $live.Count; $i++) { $live[$i] | Should -Be ($live[$i - 1] + 1) -Because 'the sender sent 1, 2, 3, ... and receivers take from the head' }
            $live[-1] | Should -BeLessOrEqual $Sent
        }

        It 'keeps an empty queue as an empty queue' {
            $info = Get-MemStackInfo -Name 'idle' -Store $Target
            $info.Kind | Should -Be 'Queue'
            $info.Count | Should -Be 0
        }

        It 'never restores a held lock' {
            Get-MemLock -Store $Target | Should -BeNullOrEmpty
            Use-MemLock -Name 'nightly' -Store $Target -Timeout 0 -ScriptBlock { 'free' } | Should -Be 'free'
        }

        It 'leaves the store valid' {
            Test-MemStore -Name $Target | Should -BeTrue
        }
    }

    Context 'Which queues' {
        BeforeAll {
            $Source = New-Store
            'job/a', 'job/tmp', 'other' | ForEach-Object { 1..3 | Send-MemQueue -Name $_ -Store $Source }
            Set-MemStack -Name 'job/stack' -Value 'a stack' -Store $Source
            $Snapshot = Join-Path $Folder 'which-queues.memsnap'
            Export-MemStore -Name $Source -Path $Snapshot
        }

        It 'says in the file how many queues and items it holds' {
            $contents = Test-SnapshotFile $Snapshot
            $contents.Stacks | Should -Be 1
            $contents.Queues | Should -Be 3
            $contents.QueueItems | Should -Be 9
        }

        It '-Include and -Exclude choose queues by name, on export and on import' {
            $path = Join-Path $Folder 'filtered-queues.memsnap'
            Export-MemStore -Name $Source -Path $path -Include 'job/*' -Exclude '*/tmp'
            $store = New-Store
            Import-MemStore -Path $path -Name $store
            (Get-MemStackInfo -Store $store).Name | Should -Be @('job/a', 'job/stack')
            $other = New-Store
            Import-MemStore -Path $Snapshot -Name $other -Include 'oth*'
            (Get-MemStackInfo -Store $other).Name | Should -Be @('other')
            Receive-All -Queue 'other' -Store $other | Should -Be @(1, 2, 3)
        }

        It '-PassThru emits the info of each queue as Get-MemStackInfo shows it' {
            $store = New-Store
            $infos = @(Import-MemStore -Path $Snapshot -Name $store -Include 'job/*' -PassThru)
            $infos.Name | Should -Be @('job/a', 'job/stack', 'job/tmp')
            $infos[0] | Should -BeOfType 'Memalloc.MemStackInfo'
            $shown = Get-MemStackInfo -Name 'job/a' -Store $store
            foreach ($property in 'Name', 'Store', 'Kind', 'Count', 'Size', 'Created', 'Modified', 'Version') {
                $infos[0].$property | Should -Be $shown.$property -Because $property
            }
            $infos[0].Kind | Should -Be 'Queue'
            $infos[1].Kind | Should -Be 'Stack'
        }

        It '-NoClobber keeps an existing queue, and its items, with a warning' {
            $store = New-Store
            'mine' | Send-MemQueue -Name 'other' -Store $store
            Import-MemStore -Path $Snapshot -Name $store -NoClobber -WarningVariable warnings -WarningAction SilentlyContinue
            @($warnings) | Should -HaveCount 1
            "$($warnings[0])" | Should -Match "Queue 'other' exists"
            Receive-All -Queue 'other' -Store $store | Should -Be @('mine')
            Receive-All -Queue 'job/a' -Store $store | Should -Be @(1, 2, 3)
        }

        It 'replaces an existing queue''s items without -NoClobber, not appends to them' {
            $store = New-Store
            'old', 'older' | Send-MemQueue -Name 'other' -Store $store
            Import-MemStore -Path $Snapshot -Name $store -Include 'other'
            Receive-All -Queue 'other' -Store $store | Should -Be @(1, 2, 3)
        }

        It '-WhatIf lists every queue it would export or import, and writes nothing' {
            $path = Join-Path $Folder 'whatif-queues.memsnap'
            $store = New-TestStoreName -Tag snapq
            $lines = @(Invoke-ChildPwsh "Export-MemStore -Name '$Source' -Path '$path' -WhatIf; Import-MemStore -Path '$Snapshot' -Name '$store' -WhatIf; (Get-MemStore -Name '$store' -ErrorAction SilentlyContinue).Count")
            $whatIf = @($lines | Where-Object { $_ -like 'What if:*' })
            $whatIf | Should -HaveCount (5 + 4)
            $whatIf[0] | Should -Match "Queue 'job/a'"
            $whatIf[1] | Should -Match "Stack 'job/stack'"
            $whatIf[4] | Should -Match '1 stack and 3 queues'
            $whatIf[5] | Should -Match "Queue 'job/a' in store '$store'"
            [System.IO.File]::Exists($path) | Should -BeFalse
            $lines[-1] | Should -Be '0'
        }
    }

    Context 'Damaged files with queues are refused before anything is written' {
        BeforeAll {
            $Source = New-Store
            1..50 | ForEach-Object { "item $_" } | Send-MemQueue -Name 'q' -Store $Source
            $GoodBytes = [System.IO.File]::ReadAllBytes((Export-MemStore -Name $Source -Path (Join-Path $Folder 'good-queue.memsnap') -PassThru).FullName)
        }

        It 'refuses a file <What> inside the queue record' -TestCases @(
            @{ What = 'cut off'; Offset = 400; Truncate = $true }
            @{ What = 'cut off'; Offset = -100; Truncate = $true }
            @{ What = 'with a bit flipped'; Offset = 128 + 16 + 30; Truncate = $false } # the queue's item count
            @{ What = 'with a bit flipped'; Offset = 900; Truncate = $false }
        ) {
            param ($What, $Offset, $Truncate)
            $at = if ($Offset -lt 0) { $GoodBytes.Length + $Offset } else { $Offset }
            $bytes = if ($Truncate) { [byte[]] $GoodBytes[0..($at - 1)] } else { [byte[]] $GoodBytes.Clone() }
            if (-not $Truncate) { $bytes[$at] = $bytes[$at] -bxor 0x04 }
            $path = Join-Path $Folder "damaged-queue-$([guid]::NewGuid().ToString('N')).memsnap"
            [System.IO.File]::WriteAllBytes($path, $bytes)
            $store = New-TestStoreName -Tag snapq
            $Stores.Add($store)
            Import-MemStore -Path $path -Name $store -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidSnapshot,$ImportId"
            $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::InvalidData)
            $err[0].Exception.Message | Should -Match 'truncated|damaged'
            Get-MemStore -Name $store -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because 'nothing may be written, not even the store'
        }
    }

    Context 'A store that fills up half-way through a queue' {
        It 'stops with StoreFull, saying how many stacks and queues were written and how many items of the queue' {
            $source = New-Store
            Set-MemStack -Name 'a' -Value 1 -Store $source
            1..40 | ForEach-Object { Send-MemQueue -Name 'q' -Value ('x' * 20KB) -Store $source }
            $path = Join-Path $Folder 'full-queue.memsnap'
            Export-MemStore -Name $source -Path $path
            $small = New-Store
            $core = [Memalloc.Core.MemStore]::Open($small, [Memalloc.Core.MemStoreOptions]@{ InitialCapacity = 64KB; MaxCapacity = 256KB })
            $core.Dispose()
            Import-MemStore -Path $path -Name $small -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "StoreFull,$ImportId"
            $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::LimitsExceeded)
            $err[0].Exception.Message -match "wrote 1 stack of '.*' into store '$small' before queue 'q', the first not written whole \((\d+) of its 40 items were written" | Should -BeTrue
            $written = [int] $Matches[1]
            $written | Should -BeGreaterThan 0
            (Get-MemStackInfo -Name 'q' -Store $small).Count | Should -Be $written
            @(Receive-All -Queue 'q' -Store $small) | Should -HaveCount $written
            Test-MemStore -Name $small | Should -BeTrue
        }
    }

    Context 'A process killed while it imports a queue' {
        It 'leaves the store valid and the queue holding the first items of the file, in order, each once' {
            $source = New-Store
            $count = 50000
            $core = [Memalloc.Core.MemStore]::Open($source)
            try {
                # Through the core, for speed: the items are the CliXml Send-MemQueue would write.
                for ($i = 1; $i -le $count; $i++) {
                    $null = $core.Send('q', [System.Text.Encoding]::UTF8.GetBytes([System.Management.Automation.PSSerializer]::Serialize($i)), 'System.Int32')
                }
            }
            finally { $core.Dispose() }
            $path = Join-Path $Folder 'killed-import.memsnap'
            Export-MemStore -Name $source -Path $path
            $seen = foreach ($round in 1..3) {
                $target = New-Store
                $child = Start-ChildPwsh "Import-MemStore -Path '$path' -Name '$target'"
                # The queue's head is written first, then its items one by one: kill soon after the head appears.
                $deadline = [DateTime]::UtcNow.AddSeconds(60)
                while (-not (Test-MemStack -Name 'q' -Store $target) -and -not $child.Process.HasExited -and [DateTime]::UtcNow -lt $deadline) { }
                Start-Sleep -Milliseconds (Get-Random -Minimum 0 -Maximum 300)
                $child.Process.Kill()
                $child.Process.WaitForExit()
                Test-MemStore -Name $target -ErrorAction SilentlyContinue | Should -Not -BeFalse
                $items = @(Receive-All -Queue 'q' -Store $target)
                for ($i = 0; $i -lt $items.Count; $i++) {
                    if ($items[$i] -ne $i + 1) { throw "round ${round}: item $i is $($items[$i]), not $($i + 1)" }
                }
                $items.Count
            }
            $seen | Should -HaveCount 3
            $seen | ForEach-Object { $_ | Should -BeLessOrEqual $count }
        }
    }
}
