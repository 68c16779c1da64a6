BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'SnapshotHelpers.ps1')
    $CommandId = 'Memalloc.Commands.ExportMemStoreCommand'
    $Folder = New-SnapshotFolder
    $Stores = [System.Collections.Generic.List[string]]::new()
    function New-Store {
        $name = New-TestStoreName -Tag snap
        $Stores.Add($name)
        $name
    }

    # Stacks written through the core, fast: for stores that must be big.
    function Add-CoreStack([string] $Store, [string] $Prefix, [int] $Count, [int] $Size) {
        $core = [Memalloc.Core.MemStore]::Open($Store)
        try {
            $bytes = [byte[]]::new($Size)
            for ($i = 0; $i -lt $Count; $i++) { $null = $core.Set("$Prefix$i", $bytes) }
        }
        finally { $core.Dispose() }
    }

    # The names of the stacks a snapshot holds, by importing it into a scratch store.
    function Get-SnapshotStackName([string] $Path, [string[]] $Include = '*') {
        $scratch = New-Store
        Import-MemStore -LiteralPath $Path -Name $scratch -Include $Include
        (Get-MemStackInfo -Store $scratch).Name
    }
}

AfterAll {
    Remove-TestStore $Stores
    Remove-Item -LiteralPath $Folder -Recurse -Force
}

Describe 'Export-MemStore' {
    Context 'Writing a snapshot' {
        BeforeAll {
            $Store = New-Store
            'job/a', 'job/b', 'job/tmp', 'Job/c', 'other' | ForEach-Object { Set-MemStack -Name $_ -Value $_ -Store $Store }
        }

        It 'writes a file of mode 0600 and returns nothing' {
            $path = Join-Path $Folder 'plain.memsnap'
            Export-MemStore -Name $Store -Path $path | Should -BeNullOrEmpty
            [System.IO.File]::GetUnixFileMode($path) | Should -Be ([System.IO.UnixFileMode] 'UserRead, UserWrite')
            (Test-SnapshotFile $path).Stacks | Should -Be 5
        }

        It 'takes the store name and the path by position, and -PassThru emits the file' {
            $path = Join-Path $Folder 'positional.memsnap'
            $file = Export-MemStore $Store $path -PassThru
            $file | Should -BeOfType [System.IO.FileInfo]
            $file.FullName | Should -BeExactly $path
        }

        It 'takes the store from Get-MemStore by the pipeline' {
            $path = Join-Path $Folder 'piped.memsnap'
            Get-MemStore -Name $Store | Export-MemStore -Path $path
            (Test-SnapshotFile $path).Stacks | Should -Be 5
        }

        It '-Include and -Exclude choose names by case-sensitive wildcards' {
            $path = Join-Path $Folder 'chosen.memsnap'
            Export-MemStore -Name $Store -Path $path -Include 'job/*', 'oth*' -Exclude '*/tmp'
            Get-SnapshotStackName $path | Should -Be @('job/a', 'job/b', 'other')
        }

        It 'writes a path with wildcard characters literally through -LiteralPath' {
            $path = Join-Path $Folder 'odd[1].memsnap'
            Export-MemStore -Name $Store -LiteralPath $path
            [System.IO.File]::Exists($path) | Should -BeTrue
        }

        It 'leaves out stacks that have expired' {
            $store = New-Store
            Set-MemStack -Name 'gone' -Value 1 -TimeToLive ([timespan]::FromMilliseconds(100)) -Store $store
            Set-MemStack -Name 'kept' -Value 2 -Store $store
            Wait-Until { -not (Test-MemStack -Name 'gone' -Store $store) } | Should -BeTrue
            $path = Join-Path $Folder 'expired.memsnap'
            Export-MemStore -Name $store -Path $path
            Get-SnapshotStackName $path | Should -Be @('kept')
        }

        It 'writes an empty snapshot of an empty store' {
            $store = New-Store
            Set-MemStack -Name 'a' -Value 1 -Store $store
            Remove-MemStack -Name 'a' -Store $store
            $path = Join-Path $Folder 'empty.memsnap'
            Export-MemStore -Name $store -Path $path
            (Test-SnapshotFile $path).Stacks | Should -Be 0
        }

        It 'reports a store that does not exist as MemStoreNotFound and writes no file' {
            $path = Join-Path $Folder 'missing-store.memsnap'
            Export-MemStore -Name (New-TestStoreName -Tag snap) -Path $path -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "MemStoreNotFound,$CommandId"
            $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::ObjectNotFound)
            [System.IO.File]::Exists($path) | Should -BeFalse
        }

        It 'reports a folder that does not exist as PathNotFound' {
            { Export-MemStore -Name $Store -Path (Join-Path $Folder 'no' 'such' 's.memsnap') -ErrorAction Stop } |
                Should -Throw -ErrorId "PathNotFound,$CommandId"
        }

        It 'refuses an invalid store name' {
            { Export-MemStore -Name 'no/slash' -Path (Join-Path $Folder 'x.memsnap') -ErrorAction Stop } |
                Should -Throw -ErrorId "InvalidStoreName,$CommandId"
        }
    }

    Context 'An existing file' {
        BeforeAll {
            $Store = New-Store
            Set-MemStack -Name 'new' -Value 'new' -Store $Store
            $Old = New-Store
            Set-MemStack -Name 'old' -Value 'old' -Store $Old
        }

        It 'is replaced whole' {
            $path = Join-Path $Folder 'replace.memsnap'
            Export-MemStore -Name $Old -Path $path
            Export-MemStore -Name $Store -Path $path
            Get-SnapshotStackName $path | Should -Be @('new')
        }

        It 'is kept with -NoClobber, with a FileExists error' {
            $path = Join-Path $Folder 'noclobber.memsnap'
            Export-MemStore -Name $Old -Path $path
            Export-MemStore -Name $Store -Path $path -NoClobber -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "FileExists,$CommandId"
            $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::ResourceExists)
            Get-SnapshotStackName $path | Should -Be @('old')
        }

        It 'is refused, and left as it was, when it is a device or a FIFO (defect: a root export to /dev/null replaced the device)' {
            $fifo = Join-Path $Folder 'pipe'
            & mkfifo $fifo
            Export-MemStore -Name $Store -Path $fifo -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidArgument,$CommandId"
            $err[0].Exception.Message | Should -Match 'not a regular file'
            & test -p $fifo
            $LASTEXITCODE | Should -Be 0 -Because 'the FIFO is still a FIFO'
        }

        It 'is replaced when read-only only with -Force' {
            $path = Join-Path $Folder 'readonly.memsnap'
            Export-MemStore -Name $Old -Path $path
            [System.IO.File]::SetUnixFileMode($path, [System.IO.UnixFileMode]::UserRead)
            Export-MemStore -Name $Store -Path $path -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "PermissionDenied,$CommandId"
            $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::PermissionDenied)
            Get-SnapshotStackName $path | Should -Be @('old')
            Export-MemStore -Name $Store -Path $path -Force
            Get-SnapshotStackName $path | Should -Be @('new')
        }
    }

    Context '-WhatIf' {
        It 'lists every stack it would export and the file, and writes nothing' {
            $store = New-Store
            'a', 'b', 'c' | ForEach-Object { Set-MemStack -Name $_ -Value $_ -Store $store }
            $path = Join-Path $Folder 'whatif.memsnap'
            $lines = @(Invoke-ChildPwsh "Export-MemStore -Name '$store' -Path '$path' -Exclude c -WhatIf") | Where-Object { $_ -like 'What if:*' }
            $lines | Should -HaveCount 3
            $lines[0] | Should -Match "'a'"
            $lines[1] | Should -Match "'b'"
            $lines[2] | Should -Match ([regex]::Escape($path))
            [System.IO.File]::Exists($path) | Should -BeFalse
            @(Get-ChildItem -LiteralPath $Folder -Force -Filter '.memalloc-export-*') | Should -HaveCount 0
        }
    }

    Context 'One instant, while 4 processes write' {
        It 'holds every stack as it was at one instant' {
            $store = New-Store
            # Many stacks, so that walking the index takes long enough for a torn walk to be caught.
            Add-CoreStack -Store $store -Prefix 'filler/' -Count 20000 -Size 16
            1..4 | ForEach-Object {
                Set-MemStack -Name "x$_" -Value 0 -Store $store
                Set-MemStack -Name "y$_" -Value 0 -Store $store
                Set-MemStack -Name "pair$_" -Value @{ a = 0; b = 0 } -Store $store
            }
            $stop = Join-Path $Folder "stop-$store"
            # Each writer writes x, then y, then both halves of its pair in one update: at every instant x = y or
            # x = y + 1, and a = b. A snapshot that mixed moments could hold a y newer than its x.
            $writers = 1..4 | ForEach-Object {
                Start-ChildPwsh @"
`$i = 0
while (-not (Test-Path '$stop')) {
    `$i++
    Set-MemStack -Name 'x$_' -Value `$i -Store '$store'
    Set-MemStack -Name 'y$_' -Value `$i -Store '$store'
    Update-MemStack -Name 'pair$_' -Store '$store' -ScriptBlock { @{ a = `$_.a + 1; b = `$_.b + 1 } }
}
`$i
"@
            }
            try {
                Wait-Until { @(1..4 | Where-Object { (Get-MemStack -Name "y$_" -Store $store) -gt 0 }).Count -eq 4 } | Should -BeTrue
                $seen = for ($round = 0; $round -lt 12; $round++) {
                    $path = Join-Path $Folder "instant-$round.memsnap"
                    Export-MemStore -Name $store -Path $path
                    $scratch = New-Store
                    Import-MemStore -Path $path -Name $scratch -Exclude 'filler/*'
                    foreach ($w in 1..4) {
                        $x = Get-MemStack -Name "x$w" -Store $scratch
                        $y = Get-MemStack -Name "y$w" -Store $scratch
                        $pair = Get-MemStack -Name "pair$w" -Store $scratch
                        [pscustomobject]@{ Round = $round; Writer = $w; X = $x; Y = $y; A = $pair.a; B = $pair.b }
                    }
                    Remove-TestStore $scratch
                }
            }
            finally {
                New-Item -ItemType File -Path $stop | Out-Null
                $iterations = $writers | Wait-ChildPwsh
            }
            foreach ($s in $seen) {
                ($s.X - $s.Y) | Should -BeIn @(0, 1) -Because "round $($s.Round), writer $($s.Writer): x $($s.X), y $($s.Y)"
                $s.A | Should -Be $s.B -Because "round $($s.Round), writer $($s.Writer)"
            }
            foreach ($w in 1..4) {
                $mine = @($seen | Where-Object Writer -EQ $w)
                $mine[-1].X | Should -BeGreaterThan $mine[0].X -Because "writer $w must have written while the snapshots were taken"
            }
            @($iterations | Where-Object { [int] $_ -gt 0 }) | Should -HaveCount 4
        }
    }

    Context 'A process killed during the export' {
        It 'leaves no file, or the previous file whole, under the target name' {
            $store = New-Store
            # Big enough that most kills land in the middle of an export.
            Add-CoreStack -Store $store -Prefix 'big/' -Count 40 -Size 1MB
            Set-MemStack -Name 'generation' -Value 'old' -Store $store
            $target = Join-Path $Folder 'killed.memsnap'
            $outcomes = for ($round = 0; $round -lt 6; $round++) {
                if ($round -eq 1) {
                    Export-MemStore -Name $store -Path $target
                    Set-MemStack -Name 'generation' -Value 'new' -Store $store
                }
                $ready = Join-Path $Folder "ready-$round"
                $child = Start-ChildPwsh "New-Item -ItemType File -Path '$ready' | Out-Null; while (`$true) { Export-MemStore -Name '$store' -Path '$target' }"
                Wait-Until { Test-Path -LiteralPath $ready } | Should -BeTrue
                Start-Sleep -Milliseconds (Get-Random -Minimum 50 -Maximum 1500)
                $child.Process.Kill()
                $child.Process.WaitForExit()
                if ([System.IO.File]::Exists($target)) {
                    $null = Test-SnapshotFile $target   # throws for a truncated or damaged file
                    $scratch = New-Store
                    Import-MemStore -Path $target -Name $scratch -Include 'generation'
                    Get-MemStack -Name 'generation' -Store $scratch
                    Remove-TestStore $scratch
                }
                else {
                    $round | Should -Be 0 -Because 'after round 0 there is always a previous file'
                    'none'
                }
            }
            $outcomes | Should -HaveCount 6
            $outcomes[1..5] | ForEach-Object { $_ | Should -BeIn @('old', 'new') }
            # Beside the target, only the hidden temporary files of killed exports.
            Get-ChildItem -LiteralPath $Folder -Force -Filter '*killed*' | ForEach-Object Name | Should -Be @('killed.memsnap')
            Get-ChildItem -LiteralPath $Folder -Force -Filter '.*' | ForEach-Object Name | Should -Match '^\.memalloc-export-\d+-[0-9A-F]{12}\.tmp$'
        }
    }

    Context 'A big store' {
        It 'is exported and imported with managed allocations far below its size' {
            # 64 MiB of values; the cmdlets stream (docs/snapshot-format.md, "Memory"), so what they allocate on this
            # thread is their fixed buffers and a few bytes per stack, never a copy of the store, the file or a value list.
            $store = New-Store
            Add-CoreStack -Store $store -Prefix 'big/' -Count 256 -Size 256KB
            $path = Join-Path $Folder 'big.memsnap'
            $target = New-Store
            $before = [GC]::GetAllocatedBytesForCurrentThread()
            Export-MemStore -Name $store -Path $path
            $exported = [GC]::GetAllocatedBytesForCurrentThread()
            Import-MemStore -Path $path -Name $target
            $imported = [GC]::GetAllocatedBytesForCurrentThread()
            (Get-MemStackInfo -Store $target).Count | Should -Be 256
            ($exported - $before) | Should -BeLessThan 16MB -Because 'the export of a 64 MiB store'
            ($imported - $exported) | Should -BeLessThan 16MB -Because 'the import of a 64 MiB store'
        }
    }

    Context 'A full disk' {
        It 'leaves the previous file whole and no temporary file' {
            & unshare --mount -- true 2>$null
            if ($LASTEXITCODE -ne 0) { Set-ItResult -Skipped -Because 'unshare --mount needs root or a user namespace'; return }
            $small = New-Store
            Set-MemStack -Name 'small' -Value 1 -Store $small
            $big = New-Store
            Add-CoreStack -Store $big -Prefix 'big/' -Count 4 -Size 1MB
            $disk = Join-Path $Folder 'tiny-disk'
            $null = New-Item -ItemType Directory -Path $disk
            $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module Memalloc
mount -t tmpfs -o size=1m tmpfs '$disk'
Export-MemStore -Name '$small' -Path '$disk/s.memsnap'
try { Export-MemStore -Name '$big' -Path '$disk/s.memsnap'; 'written' } catch { `$_.FullyQualifiedErrorId; `$_.CategoryInfo.Category.ToString() }
(Get-ChildItem -Force -LiteralPath '$disk').Name -join ','
`$reader = [Memalloc.Core.Snapshots.SnapshotFileReader]::Open('$disk/s.memsnap'); `$reader.Verify().Stacks; `$reader.Dispose()
"@
            $lines = @(& unshare --mount -- $Pwsh -NoProfile -NonInteractive -Command $script 2>&1 | ForEach-Object { "$_" })
            $lines[0] | Should -BeExactly "FileWriteFailed,$CommandId"
            $lines[1] | Should -BeExactly 'WriteError'
            $lines[2] | Should -BeExactly 's.memsnap'
            $lines[3] | Should -Be '1'
        }
    }
}
