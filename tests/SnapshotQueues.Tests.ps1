BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'SnapshotHelpers.ps1')
    $ImportId = 'Memalloc.Commands.ImportMemStoreCommand'
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

        It 'gives every item of a queue back in order, exactly once, and not the item sent after the export' {
            $back = @(Receive-All -Queue 'jobs' -Store $Target)
            $back | Should -HaveCount $Items.Count
            ($back | ConvertTo-Json -Compress -Depth 3) | Should -Be ($Items | ConvertTo-Json -Compress -Depth 3)
            $back[3] | Should -BeOfType [datetime]
            Receive-MemQueue -Name 'jobs' -Store $Target | Should -BeNullOrEmpty
        }

        It 'keeps the queue''s times, count and bytes' {
            $info = Get-MemStackInfo -Name 'jobs' -Store $Target
            $info.Kind | Should -Be 'Queue'
            $info.Count | Should -Be $Items.Count
            $info.Size | Should -Be $JobsBefore.Size
            $info.Created | Should -Be $JobsBefore.Created
            $info.Modified | Should -Be $JobsBefore.Modified
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
}
