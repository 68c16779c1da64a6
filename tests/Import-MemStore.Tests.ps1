BeforeDiscovery {
    # Every value the cmdlet tests round-trip (Get-MemStack.Tests.ps1), a 5 MiB byte array, a stack with an expiry, and
    # a .NET caller's raw bytes: the names of the stacks the round trip checks.
    $RoundTrips = @('int', 'long', 'double', 'decimal', 'bool', 'ascii', 'empty string', 'non-ascii', 'markup', 'datetime', 'guid',
        'timespan', 'char', 'hashtable', 'ordered', 'custom', 'directory', 'array', 'null', 'bytes', 'expiring', 'raw') | ForEach-Object { @{ Name = $_ } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'SnapshotHelpers.ps1')
    $CommandId = 'Memalloc.Commands.ImportMemStoreCommand'
    $Folder = New-SnapshotFolder
    $Stores = [System.Collections.Generic.List[string]]::new()
    function New-Store {
        $name = New-TestStoreName -Tag snap
        $Stores.Add($name)
        $name
    }
}

AfterAll {
    Remove-TestStore $Stores
    Remove-Item -LiteralPath $Folder -Recurse -Force
}

Describe 'Import-MemStore' {
    Context 'Exactly the same values back' {
        BeforeAll {
            $Source = New-Store
            $Values = [ordered]@{
                'int'          = [int] -17
                'long'         = [long]::MaxValue
                'double'       = [double] 3.14159
                'decimal'      = [decimal] '79228162514264337593543950335'
                'bool'         = $true
                'ascii'        = 'plain text'
                'empty string' = ''
                'non-ascii'    = "café 日本語 $([char]::ConvertFromUtf32(0x1F600)) Ωmega"
                'markup'       = '<Objs> & </Objs> "quoted"'
                'datetime'     = [datetime]::new(2024, 2, 29, 13, 14, 15, 678, [DateTimeKind]::Utc)
                'guid'         = [guid] '0f8fad5b-d9cb-469f-a165-70867728950e'
                'timespan'     = [timespan]::FromMinutes(90)
                'char'         = [char] 'é'
                'hashtable'    = @{ a = 1; b = @{ c = 'x'; d = @(1, 2) } }
                'ordered'      = [ordered]@{ zebra = 1; apple = 2; mango = 3 }
                'custom'       = [pscustomobject]@{ Name = 'n'; Count = 3; Inner = [pscustomobject]@{ x = 1 } }
                'directory'    = [System.IO.DirectoryInfo]::new('/tmp')
                'array'        = @(1, 'two', 3.0)
                'null'         = $null
            }
            foreach ($name in $Values.Keys) { Set-MemStack -Name $name -Value $Values[$name] -Store $Source -WarningAction SilentlyContinue }
            $Bytes = [byte[]]::new(5MB)
            [System.Random]::new(42).NextBytes($Bytes)
            Set-MemStack -Name 'bytes' -Value $Bytes -Store $Source
            Set-MemStack -Name 'expiring' -Value 'soon' -TimeToLive ([timespan]::FromHours(1)) -Store $Source
            $core = [Memalloc.Core.MemStore]::Open($Source)
            try { $null = $core.Set('raw', [byte[]] (1, 2, 3)) } finally { $core.Dispose() }

            $Before = @{}
            foreach ($info in Get-MemStackInfo -Store $Source) {
                $Before[$info.Name] = @{ Info = $info; Text = [System.Management.Automation.PSSerializer]::Serialize((Get-MemStack -LiteralName $info.Name -Store $Source), 5) }
            }
            $Snapshot = Join-Path $Folder 'all.memsnap'
            Export-MemStore -Name $Source -Path $Snapshot
            $Target = New-Store
            Import-MemStore -Path $Snapshot -Name $Target
        }

        It 'has exported every stack the round trip checks' -TestCases @{ Expected = @($RoundTrips.Name) } {
            param ($Expected)
            @($Before.Keys | Sort-Object) | Should -Be @($Expected | Sort-Object)
        }

        It 'gives back <Name> as Get-MemStack returned it before the export' -TestCases $RoundTrips {
            param ($Name)
            $text = [System.Management.Automation.PSSerializer]::Serialize((Get-MemStack -LiteralName $Name -Store $Target), 5)
            $text | Should -BeExactly $Before[$Name].Text
        }

        It 'keeps the type name, times and expiry of <Name>' -TestCases $RoundTrips {
            param ($Name)
            $was = $Before[$Name].Info
            $now = Get-MemStackInfo -LiteralName $Name -Store $Target
            $now.TypeName | Should -BeExactly $was.TypeName
            $now.Size | Should -Be $was.Size
            $now.Created | Should -Be $was.Created
            $now.Modified | Should -Be $was.Modified
            $now.Expires | Should -Be $was.Expires
        }

        It 'gives back a 5 MiB byte array byte for byte' {
            $back = Get-MemStack -Name 'bytes' -Store $Target
            [System.Linq.Enumerable]::SequenceEqual([byte[]] $back, $Bytes) | Should -BeTrue
        }

        It 'gives back the raw bytes of a .NET caller as raw bytes' {
            $back = Get-MemStack -Name 'raw' -Store $Target
            $back.GetType() | Should -Be ([byte[]])
            $back | Should -Be @(1, 2, 3)
        }

        It 'writes new versions of the target store, above the versions it had' {
            $store = New-Store
            $old = Set-MemStack -Name 'int' -Value 'old' -Store $store -PassThru
            Import-MemStore -Path $Snapshot -Name $store
            (Get-MemStackInfo -Name 'int' -Store $store).Version | Should -BeGreaterThan $old.Version
            Get-MemStack -Name 'int' -Store $store | Should -Be -17
        }

        It 'imports into the store the snapshot was taken of by default' {
            $store = New-Store
            Set-MemStack -Name 'home' -Value 'here' -Store $store
            $path = Join-Path $Folder 'default-target.memsnap'
            Export-MemStore -Name $store -Path $path
            Remove-MemStore -Name $store -Force
            Import-MemStore -Path $path
            Get-MemStack -Name 'home' -Store $store | Should -BeExactly 'here'
        }

        It 'is what another process reads' {
            Invoke-ChildPwsh "Get-MemStack -Name 'non-ascii' -Store '$Target'" | Should -BeExactly $Values['non-ascii']
        }

        It 'leaves the store valid' {
            Test-MemStore -Name $Target | Should -BeTrue
        }
    }

    Context 'Which stacks' {
        BeforeAll {
            $Source = New-Store
            'job/a', 'job/b', 'job/tmp', 'Job/c', 'other' | ForEach-Object { Set-MemStack -Name $_ -Value $_ -Store $Source }
            $Snapshot = Join-Path $Folder 'which.memsnap'
            Export-MemStore -Name $Source -Path $Snapshot
        }

        It '-Include and -Exclude choose names by case-sensitive wildcards' {
            $store = New-Store
            Import-MemStore -Path $Snapshot -Name $store -Include 'job/*', 'oth*' -Exclude '*/tmp'
            (Get-MemStackInfo -Store $store).Name | Should -Be @('job/a', 'job/b', 'other')
        }

        It '-PassThru emits the info of each stack written' {
            $store = New-Store
            $infos = Import-MemStore -Path $Snapshot -Name $store -Include 'job/*' -PassThru
            $infos | Should -HaveCount 3
            $infos[0] | Should -BeOfType 'Memalloc.MemStackInfo'
            $infos.Name | Should -Be @('job/a', 'job/b', 'job/tmp')
            $infos.Store | Should -Be @($store, $store, $store)
            $infos[0].Version | Should -Be (Get-MemStackInfo -Name 'job/a' -Store $store).Version
        }

        It '-NoClobber keeps existing stacks with a warning each and writes the others' {
            $store = New-Store
            Set-MemStack -Name 'job/a' -Value 'mine' -Store $store
            Set-MemStack -Name 'other' -Value 'mine too' -Store $store
            Import-MemStore -Path $Snapshot -Name $store -NoClobber -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings | Should -HaveCount 2
            "$($warnings[0])" | Should -Match "'job/a'"
            Get-MemStack -Name 'job/a' -Store $store | Should -BeExactly 'mine'
            Get-MemStack -Name 'other' -Store $store | Should -BeExactly 'mine too'
            Get-MemStack -Name 'job/b' -Store $store | Should -BeExactly 'job/b'
        }

        It 'overwrites existing stacks without -NoClobber' {
            $store = New-Store
            Set-MemStack -Name 'job/a' -Value 'mine' -Store $store
            Import-MemStore -Path $Snapshot -Name $store
            Get-MemStack -Name 'job/a' -Store $store | Should -BeExactly 'job/a'
        }

        It '-WhatIf lists every stack it would write, and writes nothing, not even the store' {
            $store = New-TestStoreName -Tag snap
            $lines = Invoke-ChildPwsh "Import-MemStore -Path '$Snapshot' -Name '$store' -WhatIf; (Get-MemStore -Name '$store' -ErrorAction SilentlyContinue).Count"
            @($lines | Where-Object { $_ -like 'What if:*' }) | Should -HaveCount 5
            ($lines | Where-Object { $_ -like 'What if:*' }) -join "`n" | Should -Match "'job/tmp'"
            $lines[-1] | Should -Be '0'
        }

        It 'takes files from Get-ChildItem and Export-MemStore -PassThru by the pipeline' {
            $store = New-Store
            Get-Item -LiteralPath $Snapshot | Import-MemStore -Name $store -Include 'other'
            Get-MemStack -Name 'other' -Store $store | Should -BeExactly 'other'
            $copy = New-Store
            Export-MemStore -Name $store -Path (Join-Path $Folder 'piped.memsnap') -PassThru | Import-MemStore -Name $copy
            Get-MemStack -Name 'other' -Store $copy | Should -BeExactly 'other'
        }

        It 'reads a path with wildcard characters literally through -LiteralPath' {
            $path = Join-Path $Folder 'odd[1].memsnap'
            Copy-Item -LiteralPath $Snapshot -Destination $path
            $store = New-Store
            Import-MemStore -LiteralPath $path -Name $store -Include 'other'
            Get-MemStack -Name 'other' -Store $store | Should -BeExactly 'other'
        }
    }

    Context 'Expiry is an absolute time' {
        It 'skips a stack that expired after the export' {
            $source = New-Store
            Set-MemStack -Name 'short' -Value 1 -TimeToLive ([timespan]::FromSeconds(5)) -Store $source
            Set-MemStack -Name 'long' -Value 2 -TimeToLive ([timespan]::FromHours(1)) -Store $source
            $path = Join-Path $Folder 'expiry.memsnap'
            Export-MemStore -Name $source -Path $path
            (Test-SnapshotFile $path).Stacks | Should -Be 2 -Because 'the stack expires after the export'
            Wait-Until { -not (Test-MemStack -Name 'short' -Store $source) } | Should -BeTrue
            $store = New-Store
            $written = Import-MemStore -Path $path -Name $store -PassThru
            $written.Name | Should -Be @('long')
            Test-MemStack -Name 'short' -Store $store | Should -BeFalse
            (Get-MemStackInfo -Name 'long' -Store $store).Expires | Should -Be (Get-MemStackInfo -Name 'long' -Store $source).Expires
        }
    }

    Context 'Files that are not a whole snapshot are refused before anything is written' {
        BeforeAll {
            $Source = New-Store
            1..20 | ForEach-Object { Set-MemStack -Name "s$_" -Value ('x' * 100 * $_) -Store $Source }
            $Good = Join-Path $Folder 'good.memsnap'
            Export-MemStore -Name $Source -Path $Good
            $GoodBytes = [System.IO.File]::ReadAllBytes($Good)

            function Test-Refused([byte[]] $Bytes, [string] $Because) {
                $path = Join-Path $Folder "refused-$([guid]::NewGuid().ToString('N')).memsnap"
                [System.IO.File]::WriteAllBytes($path, $Bytes)
                $store = New-TestStoreName -Tag snap
                $Stores.Add($store)
                Import-MemStore -Path $path -Name $store -ErrorVariable err -ErrorAction SilentlyContinue
                $err | Should -HaveCount 1
                $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidSnapshot,$CommandId"
                $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::InvalidData)
                $err[0].Exception.Message | Should -Match $Because
                $err[0].Exception.Message | Should -Match ([regex]::Escape($path))
                Get-MemStore -Name $store -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because 'nothing may be written, not even the store'
            }
        }

        It 'refuses a file truncated at <Length> bytes' -TestCases @(
            @{ Length = 0 }, @{ Length = 4 }, @{ Length = 100 }, @{ Length = 128 }, @{ Length = 500 }, @{ Length = -1 }
        ) {
            param ($Length)
            $keep = if ($Length -lt 0) { $GoodBytes.Length + $Length } else { $Length }
            $bytes = [byte[]]::new($keep)
            [array]::Copy($GoodBytes, $bytes, $keep)
            Test-Refused $bytes 'truncated|empty|not a Memalloc snapshot'
        }

        It 'refuses a file with one bit flipped at byte <Offset>' -TestCases @(
            @{ Offset = 20 }, @{ Offset = 130 }, @{ Offset = 1000 }, @{ Offset = -40 }, @{ Offset = -3 }
        ) {
            param ($Offset)
            $bytes = [byte[]] $GoodBytes.Clone()
            $at = if ($Offset -lt 0) { $bytes.Length + $Offset } else { $Offset }
            $bytes[$at] = $bytes[$at] -bxor 0x10
            Test-Refused $bytes 'damaged'
        }

        It 'refuses an Export-Clixml file as such' {
            $path = Join-Path $Folder 'clixml.xml'
            @{ a = 1 } | Export-Clixml -LiteralPath $path
            Test-Refused ([System.IO.File]::ReadAllBytes($path)) 'Export-Clixml'
        }

        It 'refuses random bytes' {
            $bytes = [byte[]]::new(4096)
            [System.Random]::new(14).NextBytes($bytes)
            Test-Refused $bytes 'not a Memalloc snapshot'
        }

        It 'refuses an empty file' {
            Test-Refused ([byte[]]::new(0)) 'empty'
        }

        It 'refuses a folder, and a FIFO without waiting for a writer, as InvalidArgument' {
            $fifo = Join-Path $Folder 'pipe'
            & mkfifo $fifo
            foreach ($path in $Folder, $fifo) {
                Import-MemStore -Path $path -Name (New-Store) -ErrorVariable err -ErrorAction SilentlyContinue
                $err | Should -HaveCount 1
                $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidArgument,$CommandId"
            }
        }

        It 'reports a missing file as PathNotFound' {
            { Import-MemStore -Path (Join-Path $Folder 'no-such.memsnap') -ErrorAction Stop } | Should -Throw -ErrorId "PathNotFound,$CommandId"
        }
    }

    Context 'A newer version''s record kinds' {
        It 'skips kinds it does not know with a warning, and imports the stacks' {
            $source = New-Store
            Set-MemStack -Name 'a' -Value 1 -Store $source
            $path = Join-Path $Folder 'kinds.memsnap'
            Export-MemStore -Name $source -Path $path
            Add-SnapshotRecord -Path $path -Kind 9 -Payload ([byte[]] (1, 2, 3, 4, 5))
            $store = New-Store
            Import-MemStore -Path $path -Name $store -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings | Should -HaveCount 1
            "$($warnings[0])" | Should -Match '1 record.*kind 9'
            Get-MemStack -Name 'a' -Store $store | Should -Be 1
        }
    }

    Context 'A store that fills up half-way' {
        It 'stops with StoreFull, saying how many stacks were written and which was the first not written' {
            $source = New-Store
            1..40 | ForEach-Object { Set-MemStack -Name ('s{0:d2}' -f $_) -Value ([byte[]]::new(20KB)) -Store $source }
            $path = Join-Path $Folder 'full.memsnap'
            Export-MemStore -Name $source -Path $path
            $small = New-Store
            $core = [Memalloc.Core.MemStore]::Open($small, [Memalloc.Core.MemStoreOptions]@{ InitialCapacity = 64KB; MaxCapacity = 256KB })
            $core.Dispose()
            Import-MemStore -Path $path -Name $small -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "StoreFull,$CommandId"
            $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::LimitsExceeded)
            $err[0].Exception.Message -match "wrote (\d+) stacks of '.*' into store '$small' before stack '(s\d\d)', the first not written" | Should -BeTrue
            $written = [int] $Matches[1]
            $first = $Matches[2]
            $written | Should -BeGreaterThan 0
            $first | Should -BeExactly ('s{0:d2}' -f ($written + 1))
            (Get-MemStackInfo -Store $small).Count | Should -Be $written
            Test-MemStack -Name $first -Store $small | Should -BeFalse
        }
    }
}
