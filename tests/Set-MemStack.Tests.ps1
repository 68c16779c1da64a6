# Runs once per backend (tools/PesterTest.ps1): the same cases on shared memory and on Redis.
param ([string] $Backend = 'SharedMemory')

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStore -Backend $Backend
    $CommandId = 'Memalloc.Commands.SetMemStackCommand'
}

AfterAll {
    Remove-TestStore $Store
}

Describe "Set-MemStack ($Backend)" {
    Context 'Writing' {
        It 'writes a value by position and returns nothing' {
            $output = Set-MemStack 'positional' 'hello' -Store $Store
            $output | Should -BeNullOrEmpty
            Get-MemStack -Name 'positional' -Store $Store | Should -BeExactly 'hello'
        }

        It 'writes a value by name' {
            Set-MemStack -Name 'named' -Value 42 -Store $Store
            Get-MemStack -Name 'named' -Store $Store | Should -Be 42
        }

        It 'overwrites and increases the version' {
            $first = Set-MemStack -Name 'overwrite' -Value 1 -Store $Store -PassThru
            $second = Set-MemStack -Name 'overwrite' -Value 2 -Store $Store -PassThru
            $second.Version | Should -BeGreaterThan $first.Version
            Get-MemStack -Name 'overwrite' -Store $Store | Should -Be 2
        }

        It '-PassThru emits the stack info' {
            $info = Set-MemStack -Name 'passthru' -Value 'abc' -Store $Store -PassThru
            $info | Should -BeOfType 'Memalloc.MemStackInfo'
            $info.Name | Should -BeExactly 'passthru'
            $info.Store | Should -BeExactly $Store
            $info.TypeName | Should -BeExactly 'System.String'
            $info.Size | Should -BeGreaterThan 0
            $info.Expires | Should -BeNullOrEmpty
            $info.Modified.Kind | Should -Be ([DateTimeKind]::Local)
        }

        It 'records the root type name of a <Scenario>' -TestCases @(
            @{ Scenario = 'int'; Value = 1; TypeName = 'System.Int32' }
            @{ Scenario = 'PSCustomObject'; Value = [pscustomobject]@{ a = 1 }; TypeName = 'System.Management.Automation.PSCustomObject' }
            @{ Scenario = 'PSCustomObject with a PSTypeName'; Value = [pscustomobject]@{ PSTypeName = 'My.Thing'; a = 1 }; TypeName = 'My.Thing' }
            @{ Scenario = 'hashtable'; Value = @{ a = 1 }; TypeName = 'System.Collections.Hashtable' }
        ) {
            param ($Value, $TypeName)
            (Set-MemStack -Name 'typename' -Value $Value -Store $Store -PassThru).TypeName | Should -BeExactly $TypeName
        }

        It 'takes a name with wildcard characters literally' {
            Set-MemStack -Name 'literal[*]?' -Value 'lit' -Store $Store
            Test-MemStack -Name 'literal[*]?' -Store $Store | Should -BeTrue
            (Get-MemStackInfo -Store $Store | Where-Object Name -CEQ 'literal[*]?').Name | Should -BeExactly 'literal[*]?'
        }

        It 'creates the store on first write' {
            $newStore = New-TestStoreName
            try {
                Get-MemStore -Name $newStore -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
                Set-MemStack -Name 'first' -Value 1 -Store $newStore
                (Get-MemStore -Name $newStore).Name | Should -BeExactly $newStore
            }
            finally {
                Remove-TestStore $newStore
            }
        }

        It 'reopens a store that was removed underneath it' {
            $newStore = New-TestStoreName
            try {
                Set-MemStack -Name 'before' -Value 1 -Store $newStore
                Remove-MemStore -Name $newStore -Force
                Set-MemStack -Name 'after' -Value 2 -Store $newStore
                Get-MemStack -Name 'after' -Store $newStore | Should -Be 2
                Test-MemStack -Name 'before' -Store $newStore | Should -BeFalse
            }
            finally {
                Remove-TestStore $newStore
            }
        }
    }

    Context 'Pipeline' {
        It 'stores one piped object as itself' {
            'single' | Set-MemStack -Name 'pipe-one' -Store $Store
            $value = Get-MemStack -Name 'pipe-one' -Store $Store
            $value | Should -BeOfType [string]
            $value | Should -BeExactly 'single'
        }

        It 'stores several piped objects as an array' {
            1, 2, 3 | Set-MemStack -Name 'pipe-many' -Store $Store
            $value = Get-MemStack -Name 'pipe-many' -Store $Store
            $value.Count | Should -Be 3
            $value[0] | Should -Be 1
            $value[2] | Should -Be 3
            (Get-MemStackInfo -Name 'pipe-many' -Store $Store).TypeName | Should -BeExactly 'System.Object[]'
        }

        It 'stores a piped $null as $null' {
            $null | Set-MemStack -Name 'pipe-null' -Store $Store
            Test-MemStack -Name 'pipe-null' -Store $Store | Should -BeTrue
            Get-MemStack -Name 'pipe-null' -Store $Store | Should -BeNullOrEmpty
        }

        It 'stores $null for an empty pipeline, as Set-Variable does' {
            @() | Set-MemStack -Name 'pipe-empty' -Store $Store
            Test-MemStack -Name 'pipe-empty' -Store $Store | Should -BeTrue
            $null -eq (Get-MemStack -Name 'pipe-empty' -Store $Store) | Should -BeTrue
        }

        It 'stores an array passed as -Value as the array' {
            Set-MemStack -Name 'array-value' -Value @('a', 'b') -Store $Store
            (Get-MemStack -Name 'array-value' -Store $Store).Count | Should -Be 2
        }

        It 'stores a piped object with a Store property whole, in the -Store given' {
            [pscustomobject]@{ Value = 'bp'; Store = 'elsewhere' } | Set-MemStack -Name 'by-property-store' -Store $Store
            $back = Get-MemStack -Name 'by-property-store' -Store $Store
            $back.Value | Should -BeExactly 'bp'
            $back.Store | Should -BeExactly 'elsewhere'
        }
    }

    Context '-NoClobber' {
        It 'creates a stack that does not exist' {
            Set-MemStack -Name 'noclobber-new' -Value 1 -NoClobber -Store $Store
            Get-MemStack -Name 'noclobber-new' -Store $Store | Should -Be 1
        }

        It 'leaves an existing stack unchanged with a ResourceExists error' {
            Set-MemStack -Name 'noclobber' -Value 'old' -Store $Store
            Set-MemStack -Name 'noclobber' -Value 'new' -NoClobber -Store $Store -ErrorVariable err -ErrorAction SilentlyContinue
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "MemStackExists,$CommandId"
            $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::ResourceExists)
            $err[0].TargetObject | Should -BeExactly 'noclobber'
            Get-MemStack -Name 'noclobber' -Store $Store | Should -BeExactly 'old'
        }

        It 'throws with -ErrorAction Stop' {
            Set-MemStack -Name 'noclobber2' -Value 'old' -Store $Store
            { Set-MemStack -Name 'noclobber2' -Value 'new' -NoClobber -Store $Store -ErrorAction Stop } |
                Should -Throw -ErrorId "MemStackExists,$CommandId"
        }
    }

    Context 'ShouldProcess' {
        It '-WhatIf changes nothing' {
            Set-MemStack -Name 'whatif' -Value 'kept' -Store $Store
            Set-MemStack -Name 'whatif' -Value 'changed' -Store $Store -WhatIf
            Set-MemStack -Name 'whatif-new' -Value 'x' -Store $Store -WhatIf
            Get-MemStack -Name 'whatif' -Store $Store | Should -BeExactly 'kept'
            Test-MemStack -Name 'whatif-new' -Store $Store | Should -BeFalse
        }

        It '-WhatIf does not create a missing store' {
            $newStore = New-TestStoreName
            Set-MemStack -Name 'x' -Value 1 -Store $newStore -WhatIf
            Get-MemStore -Name $newStore -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }
    }

    Context '-TimeToLive' {
        It 'sets an expiry time in the future' {
            $before = Get-Date
            $info = Set-MemStack -Name 'ttl' -Value 1 -TimeToLive ([TimeSpan]::FromHours(1)) -Store $Store -PassThru
            $info.Expires | Should -BeGreaterThan $before
            $info.Expires.Kind | Should -Be ([DateTimeKind]::Local)
        }

        It 'lets a short-lived stack disappear' {
            Set-MemStack -Name 'ttl-short' -Value 'soon gone' -TimeToLive ([TimeSpan]::FromMilliseconds(300)) -Store $Store
            Wait-Until { -not (Test-MemStack -Name 'ttl-short' -Store $Store) } | Should -BeTrue
            Get-MemStack -Name 'ttl-short' -Store $Store -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            Get-MemStackInfo -Store $Store | Where-Object Name -EQ 'ttl-short' | Should -BeNullOrEmpty
        }

        It 'overwriting without -TimeToLive removes the expiry' {
            Set-MemStack -Name 'ttl-cleared' -Value 1 -TimeToLive ([TimeSpan]::FromHours(1)) -Store $Store
            (Set-MemStack -Name 'ttl-cleared' -Value 2 -Store $Store -PassThru).Expires | Should -BeNullOrEmpty
        }

        It 'refuses a time to live of <Scenario> with InvalidTimeToLive' -TestCases @(
            @{ Scenario = 'zero'; TimeToLive = [TimeSpan]::Zero }
            @{ Scenario = 'a negative span'; TimeToLive = [TimeSpan]::FromSeconds(-5) }
            @{ Scenario = 'past DateTime.MaxValue'; TimeToLive = [TimeSpan]::MaxValue }
        ) {
            param ($TimeToLive)
            { Set-MemStack -Name 'ttl-bad' -Value 1 -TimeToLive $TimeToLive -Store $Store } |
                Should -Throw -ErrorId "InvalidTimeToLive,$CommandId"
            Test-MemStack -Name 'ttl-bad' -Store $Store | Should -BeFalse
        }

        It 'reports InvalidTimeToLive as InvalidArgument' {
            try { Set-MemStack -Name 'ttl-bad' -Value 1 -TimeToLive '-00:00:01' -Store $Store } catch { $caught = $_ }
            $caught.CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::InvalidArgument)
        }
    }

    Context 'Issue 10 defect 5: a bare number is seconds, and the limits are the same on every run' {
        It 'takes -TimeToLive <Given> as <Seconds> seconds' -TestCases @(
            @{ Given = 5; Seconds = 5 }
            @{ Given = 1.5; Seconds = 1.5 }
            @{ Given = [long] 3600; Seconds = 3600 }
            @{ Given = [decimal] 0.25; Seconds = 0.25 }
            @{ Given = '90'; Seconds = 90 }
            @{ Given = '00:05:00'; Seconds = 300 }
            @{ Given = [TimeSpan]::FromMinutes(2); Seconds = 120 }
        ) {
            param ($Given, $Seconds)
            $info = Set-MemStack -Name 'ttl-seconds' -Value 1 -TimeToLive $Given -Store $Store -PassThru
            # Expiry and modification time come from the same write, so their difference is the time to live exactly.
            ($info.Expires - $info.Modified).TotalSeconds | Should -Be $Seconds
        }

        It 'Update-MemStack takes -TimeToLive 5 as five seconds too' {
            Update-MemStack -Name 'ttl-update-seconds' -Increment 1 -TimeToLive 5 -Store $Store
            $info = Get-MemStackInfo -Name 'ttl-update-seconds' -Store $Store
            ($info.Expires - $info.Modified).TotalSeconds | Should -Be 5
        }

        It 'says what was wrong in the user''s terms for -TimeToLive <Given>' -TestCases @(
            @{ Given = -1; Expected = '-1 second' }
            @{ Given = 0; Expected = '0 seconds' }
            @{ Given = '-00:00:01'; Expected = '-1 second' }
        ) {
            param ($Given, $Expected)
            $err = { Set-MemStack -Name 'ttl-message' -Value 1 -TimeToLive $Given -Store $Store } |
                Should -Throw -ErrorId "InvalidTimeToLive,$CommandId" -PassThru
            "$($err.CategoryInfo.Category)" | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match ([regex]::Escape($Expected))
            $err.Exception.Message | Should -Match '1 millisecond'
            $err.Exception.Message | Should -Not -Match 'Actual value'
        }

        It 'refuses a time to live under the 1 ms minimum on every run, and accepts the minimum on every run' {
            $refused = 1..25 | ForEach-Object {
                try { Set-MemStack -Name 'ttl-tiny' -Value 1 -TimeToLive ([TimeSpan]::FromTicks(9999)) -Store $Store; 'accepted' }
                catch { $_.FullyQualifiedErrorId }
            }
            $refused | Sort-Object -Unique | Should -BeExactly "InvalidTimeToLive,$CommandId"
            Test-MemStack -Name 'ttl-tiny' -Store $Store | Should -BeFalse
            $accepted = 1..25 | ForEach-Object {
                Set-MemStack -Name 'ttl-minimum' -Value 1 -TimeToLive ([TimeSpan]::FromMilliseconds(1)) -Store $Store -ErrorVariable err -ErrorAction SilentlyContinue
                $err.Count
            }
            $accepted | Sort-Object -Unique | Should -Be 0
        }
    }

    Context '-Depth' {
        BeforeAll {
            # A .NET object three adapted levels down: FileInfo -> DirectoryInfo -> DirectoryInfo.
            $Deep = [pscustomobject]@{ File = [System.IO.FileInfo]::new('/etc/hostname') }
        }

        It 'defaults to 2, as Export-Clixml does' {
            Set-MemStack -Name 'depth-default' -Value $Deep -Store $Store -WarningAction SilentlyContinue
            $value = Get-MemStack -Name 'depth-default' -Store $Store
            $value.File.Name | Should -BeExactly 'hostname'
            $value.File.Directory.Name | Should -BeExactly 'etc'
            $value.File.Directory.Parent | Should -BeOfType [string]
        }

        It 'warns when objects were cut off by -Depth' {
            Set-MemStack -Name 'depth-cut' -Value $Deep -Depth 1 -Store $Store -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings.Message | Should -Match 'Depth 1'
            (Get-MemStack -Name 'depth-cut' -Store $Store).File.Directory | Should -BeOfType [string]
        }

        It 'does not warn for containers and primitives at any depth' {
            $nested = @{ a = @{ b = @{ c = @{ d = [pscustomobject]@{ e = @(1, @(2, 3)) } } } } }
            Set-MemStack -Name 'depth-fine' -Value $nested -Depth 1 -Store $Store -WarningVariable warnings
            $warnings | Should -BeNullOrEmpty
            (Get-MemStack -Name 'depth-fine' -Store $Store).a.b.c.d.e[1][1] | Should -Be 3
        }

        It 'keeps more levels with a larger -Depth' {
            Set-MemStack -Name 'depth-large' -Value $Deep -Depth 4 -Store $Store -WarningAction SilentlyContinue
            (Get-MemStack -Name 'depth-large' -Store $Store).File.Directory.Parent.FullName | Should -BeExactly '/'
        }

        It 'refuses -Depth <Depth>' -TestCases @(@{ Depth = 0 }, @{ Depth = -1 }, @{ Depth = 101 }) {
            param ($Depth)
            { Set-MemStack -Name 'depth-bad' -Value 1 -Depth $Depth -Store $Store } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,$CommandId"
        }
    }

    Context 'Secrets and code' {
        It 'warns that a SecureString is stored unencrypted' {
            $secure = ConvertTo-SecureString 'p@ss' -AsPlainText -Force
            Set-MemStack -Name 'secure' -Value $secure -Store $Store -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings.Message | Should -Match 'unencrypted'
        }

        It 'warns for a PSCredential' {
            $credential = [pscredential]::new('user', (ConvertTo-SecureString 'p@ss' -AsPlainText -Force))
            Set-MemStack -Name 'credential' -Value $credential -Store $Store -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings.Message | Should -Match 'unencrypted'
        }

        It 'warns for a SecureString inside a collection' {
            $secure = ConvertTo-SecureString 'p@ss' -AsPlainText -Force
            Set-MemStack -Name 'secure-list' -Value @(1, @{ s = $secure }) -Store $Store -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings.Message | Should -Match 'unencrypted'
        }

        It 'does not warn for plain text that looks like CliXml' {
            Set-MemStack -Name 'not-secure' -Value '<SS>41</SS>' -Store $Store -WarningVariable warnings
            $warnings | Should -BeNullOrEmpty
            Get-MemStack -Name 'not-secure' -Store $Store | Should -BeExactly '<SS>41</SS>'
        }

        It 'gives back a script block as a string, never as code' {
            Set-MemStack -Name 'code' -Value { 'ran' } -Store $Store
            $value = Get-MemStack -Name 'code' -Store $Store
            $value | Should -BeOfType [string]
            $value.Trim() | Should -BeExactly "'ran'"
        }
    }

    Context 'Errors' {
        It 'refuses the stack name <Scenario> with a terminating InvalidName' -TestCases @(
            @{ Scenario = 'empty'; Name = '' }
            @{ Scenario = 'with a control character'; Name = "a`tb" }
            @{ Scenario = 'of 256 UTF-8 bytes'; Name = 'x' * 256 }
            @{ Scenario = 'of 128 two-byte characters'; Name = [string]::new([char]0xE9, 128) }
        ) {
            param ($Name)
            { Set-MemStack -Name $Name -Value 1 -Store $Store } | Should -Throw -ErrorId "InvalidName,$CommandId"
            try { Set-MemStack -Name $Name -Value 1 -Store $Store } catch { $caught = $_ }
            $caught.CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::InvalidArgument)
        }

        It 'accepts a name of exactly 255 UTF-8 bytes' {
            $name = 'y' * 255
            Set-MemStack -Name $name -Value 1 -Store $Store
            Get-MemStack -Name $name -Store $Store | Should -Be 1
        }

        It 'reports a value larger than the store can ever hold as StoreFull (LimitsExceeded)' {
            # A child process, so that the small maximum applies only to the store it creates.
            $small = New-TestStoreName
            try {
                $lines = Invoke-ChildPwsh @"
`$env:MEMALLOC_MAX_CAPACITY = 2MB
Set-MemStack -Name 'fits' -Value 'small' -Store '$small'
Set-MemStack -Name 'too-big' -Value ([byte[]]::new(4MB)) -Store '$small' -ErrorVariable err -ErrorAction SilentlyContinue
`$err[0].FullyQualifiedErrorId
`$err[0].CategoryInfo.Category
"@
                $lines | Should -Be @("StoreFull,$CommandId", 'LimitsExceeded')
                Test-MemStack -Name 'too-big' -Store $small | Should -BeFalse
                Get-MemStack -Name 'fits' -Store $small | Should -BeExactly 'small'
            }
            finally {
                Remove-TestStore $small
            }
        }

        It 'refuses an invalid store name with InvalidStoreName' {
            { Set-MemStack -Name 'x' -Value 1 -Store 'no/slashes here' } | Should -Throw -ErrorId "InvalidStoreName,$CommandId"
        }

        It 'reports an object that cannot be serialised as SerializationFailed and leaves the stack unchanged' {
            # An enumerable whose enumerator throws is one of the few things PSSerializer cannot write.
            if (-not ('MemallocTests.Unenumerable' -as [type])) {
                Add-Type -TypeDefinition @'
namespace MemallocTests {
    public sealed class Unenumerable : System.Collections.IEnumerable {
        public System.Collections.IEnumerator GetEnumerator() { throw new System.InvalidOperationException("cannot enumerate"); }
    }
}
'@
            }
            Set-MemStack -Name 'serialize' -Value 'before' -Store $Store
            Set-MemStack -Name 'serialize' -Value ([MemallocTests.Unenumerable]::new()) -Store $Store -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeExactly "SerializationFailed,$CommandId"
            $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::InvalidData)
            Get-MemStack -Name 'serialize' -Store $Store | Should -BeExactly 'before'
        }
    }
}
