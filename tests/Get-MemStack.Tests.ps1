# Runs once per backend (tools/PesterTest.ps1): the same cases on shared memory and on Redis.
param ([string] $Backend = 'SharedMemory')

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStore -Backend $Backend
    $CommandId = 'Memalloc.Commands.GetMemStackCommand'
}

AfterAll {
    Remove-TestStore $Store
}

Describe "Get-MemStack ($Backend)" {
    Context 'Round trips' {
        It 'gives back a <Scenario> as itself' -TestCases @(
            @{ Scenario = 'int'; Value = [int] -17; Type = [int] }
            @{ Scenario = 'long'; Value = [long]::MaxValue; Type = [long] }
            @{ Scenario = 'double'; Value = [double] 3.14159; Type = [double] }
            @{ Scenario = 'decimal'; Value = [decimal] '79228162514264337593543950335'; Type = [decimal] }
            @{ Scenario = 'bool'; Value = $true; Type = [bool] }
            @{ Scenario = 'ASCII string'; Value = 'plain text'; Type = [string] }
            @{ Scenario = 'empty string'; Value = ''; Type = [string] }
            @{ Scenario = 'non-ASCII string'; Value = "café 日本語 $([char]::ConvertFromUtf32(0x1F600)) Ωmega"; Type = [string] }
            @{ Scenario = 'string with markup'; Value = '<Objs> & </Objs> "quoted"'; Type = [string] }
            @{ Scenario = 'DateTime'; Value = [datetime]::new(2024, 2, 29, 13, 14, 15, 678, [DateTimeKind]::Utc); Type = [datetime] }
            @{ Scenario = 'Guid'; Value = [guid] '0f8fad5b-d9cb-469f-a165-70867728950e'; Type = [guid] }
            @{ Scenario = 'TimeSpan'; Value = [timespan]::FromMinutes(90); Type = [timespan] }
            @{ Scenario = 'char'; Value = [char] 'é'; Type = [char] }
        ) {
            param ($Value, $Type)
            Set-MemStack -Name 'round-trip' -Value $Value -Store $Store
            $back = Get-MemStack -Name 'round-trip' -Store $Store
            $back | Should -BeOfType $Type
            $back | Should -BeExactly $Value
        }

        It 'gives back a DateTime with its kind' {
            $utc = [datetime]::new(2020, 1, 2, 3, 4, 5, [DateTimeKind]::Utc)
            Set-MemStack -Name 'utc' -Value $utc -Store $Store
            (Get-MemStack -Name 'utc' -Store $Store).Kind | Should -Be ([DateTimeKind]::Utc)
        }

        It 'gives back a byte array of several MiB byte for byte' {
            $bytes = [byte[]]::new(5MB)
            [System.Random]::new(42).NextBytes($bytes)
            Set-MemStack -Name 'bytes' -Value $bytes -Store $Store
            $back = Get-MemStack -Name 'bytes' -Store $Store
            $back.GetType() | Should -Be ([byte[]])
            $back.Length | Should -Be $bytes.Length
            [System.Linq.Enumerable]::SequenceEqual($back, $bytes) | Should -BeTrue
        }

        It 'gives back a nested hashtable' {
            Set-MemStack -Name 'hashtable' -Value @{ a = 1; b = @{ c = 'x'; d = @(1, 2) } } -Store $Store
            $back = Get-MemStack -Name 'hashtable' -Store $Store
            $back | Should -BeOfType [hashtable]
            $back.a | Should -Be 1
            $back.b.c | Should -BeExactly 'x'
            $back.b.d.Count | Should -Be 2
        }

        It 'gives back an ordered hashtable in its order' {
            $ordered = [ordered]@{ zebra = 1; apple = 2; mango = 3 }
            Set-MemStack -Name 'ordered' -Value $ordered -Store $Store
            $back = Get-MemStack -Name 'ordered' -Store $Store
            $back | Should -BeOfType [System.Collections.Specialized.OrderedDictionary]
            @($back.Keys) | Should -Be @('zebra', 'apple', 'mango')
        }

        It 'gives back a PSCustomObject as a property bag' {
            Set-MemStack -Name 'custom' -Value ([pscustomobject]@{ Name = 'n'; Count = 3; Inner = [pscustomobject]@{ x = 1 } }) -Store $Store
            $back = Get-MemStack -Name 'custom' -Store $Store
            $back.Name | Should -BeExactly 'n'
            $back.Count | Should -Be 3
            $back.Inner.x | Should -Be 1
        }

        It 'gives back other .NET objects as Deserialized property bags' {
            Set-MemStack -Name 'version' -Value ([System.IO.DirectoryInfo]::new('/tmp')) -Store $Store
            $back = Get-MemStack -Name 'version' -Store $Store
            $back.PSObject.TypeNames[0] | Should -BeExactly 'Deserialized.System.IO.DirectoryInfo'
            $back.FullName | Should -BeExactly '/tmp'
        }

        It 'gives back an array as one collection object, as Import-Clixml does' {
            Set-MemStack -Name 'array' -Value @(1, 'two', 3.0) -Store $Store
            $back = Get-MemStack -Name 'array' -Store $Store
            $back.Count | Should -Be 3
            $back[1] | Should -BeExactly 'two'
            @(Get-MemStack -Name 'array' -Store $Store).Count | Should -Be 1
        }

        It 'gives back $null as $null' {
            Set-MemStack -Name 'null' -Value $null -Store $Store
            $back = Get-MemStack -Name 'null' -Store $Store -ErrorVariable err
            $null -eq $back | Should -BeTrue
            $err | Should -BeNullOrEmpty
        }
    }

    Context 'Raw values' {
        It 'gives back the bytes of a stack a .NET caller wrote without CliXml' {
            $core = [Memalloc.MemallocStores]::Open($Store)
            try {
                $options = [Memalloc.Core.WriteOptions]@{ Encoding = 'Raw' }
                $version = 0L
                $null = $core.TrySet('raw', [byte[]] (1, 2, 3), [ref] $options, [ref] $version)
            }
            finally {
                $core.Dispose()
            }
            $back = Get-MemStack -Name 'raw' -Store $Store
            $back.GetType() | Should -Be ([byte[]])
            $back | Should -Be @(1, 2, 3)
        }

        It 'reports CliXml it cannot read as DeserializationFailed and goes on' {
            $core = [Memalloc.MemallocStores]::Open($Store)
            try {
                $options = [Memalloc.Core.WriteOptions]@{ Encoding = 'CliXml'; TypeName = 'Broken' }
                $version = 0L
                $null = $core.TrySet('broken', [Text.Encoding]::UTF8.GetBytes('<Objs><not closed'), [ref] $options, [ref] $version)
            }
            finally {
                $core.Dispose()
            }
            $values = Get-MemStack -Name 'broken', 'raw' -Store $Store -ErrorVariable err -ErrorAction SilentlyContinue
            $values | Should -Be @(1, 2, 3)
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "DeserializationFailed,$CommandId"
            $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::InvalidData)
            { Update-MemStack -Name 'broken' -ScriptBlock { 'new' } -Store $Store -ErrorAction Stop } |
                Should -Throw -ErrorId 'DeserializationFailed,Memalloc.Commands.UpdateMemStackCommand'
        }
    }

    Context 'Names and wildcards' {
        BeforeAll {
            'job-b', 'job-a', 'job-c', 'other' | ForEach-Object { Set-MemStack -Name $_ -Value $_ -Store $Store }
        }

        It 'returns the matches of a wildcard in name order' {
            Get-MemStack -Name 'job-*' -Store $Store | Should -Be @('job-a', 'job-b', 'job-c')
        }

        It 'matches names case-sensitively' {
            Get-MemStack -Name 'JOB-*' -Store $Store | Should -BeNullOrEmpty
            Get-MemStack -Name 'JOB-A' -Store $Store -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'takes several names' {
            Get-MemStack -Name 'other', 'job-a' -Store $Store | Should -Be @('other', 'job-a')
        }

        It 'takes names from the pipeline by value' {
            'job-c', 'other' | Get-MemStack -Store $Store | Should -Be @('job-c', 'other')
        }

        It 'takes names (and the store) from the pipeline by property name' {
            Get-MemStackInfo -Name 'job-*' -Store $Store | Get-MemStack | Should -Be @('job-a', 'job-b', 'job-c')
        }

        It 'is silent when a wildcard matches nothing' {
            Get-MemStack -Name 'nothing-*' -Store $Store -ErrorVariable err | Should -BeNullOrEmpty
            $err | Should -BeNullOrEmpty
        }

        It 'is silent for a wildcard in a store that does not exist' {
            Get-MemStack -Name '*' -Store (New-TestStoreName) -ErrorVariable err | Should -BeNullOrEmpty
            $err | Should -BeNullOrEmpty
        }

        It 'reads a literal name with wildcard characters through a matching pattern' {
            Set-MemStack -Name 'lit[1]' -Value 'bracket' -Store $Store
            Get-MemStack -Name 'lit`[1`]' -Store $Store | Should -BeExactly 'bracket'
        }
    }

    Context '-AsHashtable and -Default (issue 10 conventions)' {
        BeforeAll {
            'hash-b', 'hash-a', 'Hash-a' | ForEach-Object { Set-MemStack -Name $_ -Value "value of $_" -Store $Store }
            Set-MemStack -Name 'hash-list' -Value @(1, 2) -Store $Store
        }

        It '-AsHashtable returns one ordered dictionary of name to value, keys case-sensitive, in name order' {
            $table = Get-MemStack -Name 'hash-*' -AsHashtable -Store $Store
            @($table).Count | Should -Be 1
            $table | Should -BeOfType [System.Collections.Specialized.OrderedDictionary]
            @($table.Keys) | Should -Be @('hash-a', 'hash-b', 'hash-list')
            $table['hash-a'] | Should -BeExactly 'value of hash-a'
            $table['Hash-a'] | Should -BeNullOrEmpty
            $table['hash-list'].Count | Should -Be 2
        }

        It '-AsHashtable collects names from the pipeline and several patterns into the one dictionary' {
            $table = 'hash-a', 'Hash-*' | Get-MemStack -AsHashtable -Store $Store
            @($table.Keys) | Should -Be @('hash-a', 'Hash-a')
        }

        It '-AsHashtable returns an empty dictionary when nothing matches' {
            $table = Get-MemStack -Name 'nothing-*' -AsHashtable -Store $Store
            $table | Should -BeOfType [System.Collections.Specialized.OrderedDictionary]
            $table.Count | Should -Be 0
        }

        It '-Default is returned for a missing literal name, without an error' {
            Get-MemStack -Name 'not-there' -Default 42 -Store $Store -ErrorVariable err | Should -Be 42
            $err | Should -BeNullOrEmpty
            Get-MemStack -Name 'hash-a' -Default 42 -Store $Store | Should -BeExactly 'value of hash-a'
        }

        It '-Default $null returns $null for a missing name, and an array default comes back whole' {
            $value = Get-MemStack -Name 'not-there' -Default $null -Store $Store -ErrorVariable err
            $null -eq $value | Should -BeTrue
            $err | Should -BeNullOrEmpty
            (Get-MemStack -Name 'not-there' -Default @(1, 2, 3) -Store $Store).Count | Should -Be 3
        }

        It '-Default does not apply to a pattern that matches nothing' {
            Get-MemStack -Name 'nothing-*' -Default 42 -Store $Store | Should -BeNullOrEmpty
        }

        It '-Default fills a missing name in -AsHashtable' {
            $table = Get-MemStack -Name 'hash-a', 'absent' -AsHashtable -Default 0 -Store $Store
            $table['absent'] | Should -Be 0
        }
    }

    Context 'Tab completion' {
        It 'completes -Name with the stacks of the -Store given' {
            Get-CompletionText "Get-MemStack -Store $Store -Name job-" | Should -Be @('job-a', 'job-b', 'job-c')
        }

        It 'completes a positional name' {
            Get-CompletionText "Get-MemStack -Store $Store oth" | Should -Be @('other')
        }

        It 'completes -Name of <Command>' -TestCases @(
            @{ Command = 'Set-MemStack' }
            @{ Command = 'Remove-MemStack' }
            @{ Command = 'Test-MemStack' }
            @{ Command = 'Get-MemStackInfo' }
            @{ Command = 'Update-MemStack' }
        ) {
            param ($Command)
            Get-CompletionText "$Command -Store $Store -Name job-b" | Should -Be @('job-b')
        }

        It 'offers names created after the last completion (nothing is cached)' {
            Get-CompletionText "Get-MemStack -Store $Store -Name fresh" | Should -BeNullOrEmpty
            Set-MemStack -Name 'fresh-name' -Value 1 -Store $Store
            Get-CompletionText "Get-MemStack -Store $Store -Name fresh" | Should -Be @('fresh-name')
        }

        It 'quotes names with spaces' {
            Set-MemStack -Name 'with space' -Value 1 -Store $Store
            Get-CompletionText "Get-MemStack -Store $Store -Name with" | Should -Be @("'with space'")
        }

        It 'escapes wildcard characters for the commands that read -Name as a pattern' {
            Set-MemStack -Name 'brk[1]' -Value 'bracketed' -Store $Store
            $offered = Get-CompletionText "Get-MemStack -Store $Store -Name brk"
            $offered | Should -Be @("'brk``[1``]'")
            Invoke-Expression "Get-MemStack -Store $Store -Name $offered" | Should -BeExactly 'bracketed'
            Get-CompletionText "Test-MemStack -Store $Store -Name brk" | Should -Be @("'brk[1]'")
        }

        It 'offers nothing for a store that does not exist' {
            Get-CompletionText "Get-MemStack -Store $(New-TestStoreName) -Name j" | Should -BeNullOrEmpty
        }

        It 'completes -Store with existing stores' {
            Get-CompletionText "Get-MemStack -Store $($Store.Substring(0, 15))" | Should -Contain $Store
        }
    }

    Context 'Errors' {
        It 'writes a non-terminating ObjectNotFound error for a missing name and goes on' {
            $values = Get-MemStack -Name 'missing', 'other' -Store $Store -ErrorVariable err -ErrorAction SilentlyContinue
            $values | Should -Be @('other')
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "MemStackNotFound,$CommandId"
            $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::ObjectNotFound)
            $err[0].TargetObject | Should -BeExactly 'missing'
        }

        It 'throws MemStackNotFound with -ErrorAction Stop' {
            { Get-MemStack -Name 'missing' -Store $Store -ErrorAction Stop } | Should -Throw -ErrorId "MemStackNotFound,$CommandId"
        }

        It 'reports a missing name in a missing store as MemStackNotFound' {
            { Get-MemStack -Name 'x' -Store (New-TestStoreName) -ErrorAction Stop } | Should -Throw -ErrorId "MemStackNotFound,$CommandId"
        }

        It 'does not create the store it reads' {
            $newStore = New-TestStoreName
            Get-MemStack -Name 'x' -Store $newStore -ErrorAction SilentlyContinue
            Get-MemStore -Name $newStore -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'stops at an invalid name with InvalidName' {
            { Get-MemStack -Name "bad`u{1}name" -Store $Store } | Should -Throw -ErrorId "InvalidName,$CommandId"
        }

        It 'stops at an invalid store name with InvalidStoreName' {
            { Get-MemStack -Name 'x' -Store '../etc' } | Should -Throw -ErrorId "InvalidStoreName,$CommandId"
        }
    }
}
