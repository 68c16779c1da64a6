# Runs once per backend (tools/PesterTest.ps1): the same cases on shared memory and on Redis.
param ([string] $Backend = 'SharedMemory')

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStore -Backend $Backend
    $CommandId = 'Memalloc.Commands.GetMemStackInfoCommand'
    'charlie', 'alpha', 'bravo', 'alpha-2' | ForEach-Object { Set-MemStack -Name $_ -Value "value of $_" -Store $Store }
}

AfterAll {
    Remove-TestStore $Store
}

Describe "Get-MemStackInfo ($Backend)" {
    It 'lists every stack, sorted by name, without -Name' {
        (Get-MemStackInfo -Store $Store).Name | Should -Be @('alpha', 'alpha-2', 'bravo', 'charlie')
    }

    It 'emits Memalloc.MemStackInfo objects with the metadata' {
        $before = (Get-Date).AddSeconds(-5)
        Set-MemStack -Name 'meta' -Value ([pscustomobject]@{ a = 1 }) -Store $Store
        $info = Get-MemStackInfo -Name 'meta' -Store $Store
        $info | Should -BeOfType 'Memalloc.MemStackInfo'
        $info.PSObject.TypeNames[0] | Should -BeExactly 'Memalloc.MemStackInfo'
        $info.Name | Should -BeExactly 'meta'
        $info.Store | Should -BeExactly $Store
        $info.Size | Should -BeGreaterThan 0
        $info.TypeName | Should -BeExactly 'System.Management.Automation.PSCustomObject'
        $info.Created | Should -BeGreaterThan $before
        $info.Modified | Should -BeGreaterOrEqual $info.Created
        $info.Expires | Should -BeNullOrEmpty
        $info.Version | Should -BeGreaterThan 0
        Remove-MemStack -Name 'meta' -Store $Store
    }

    It 'keeps Created and advances Modified and Version on overwrite' {
        $first = Set-MemStack -Name 'times' -Value 1 -Store $Store -PassThru
        $second = Set-MemStack -Name 'times' -Value 2 -Store $Store -PassThru
        $second.Created | Should -Be $first.Created
        $second.Modified | Should -BeGreaterOrEqual $first.Modified
        $second.Version | Should -BeGreaterThan $first.Version
        Remove-MemStack -Name 'times' -Store $Store
    }

    It 'shows Expires for a stack with a time to live' {
        Set-MemStack -Name 'ttl' -Value 1 -TimeToLive '01:00:00' -Store $Store
        (Get-MemStackInfo -Name 'ttl' -Store $Store).Expires | Should -BeGreaterThan (Get-Date)
        Remove-MemStack -Name 'ttl' -Store $Store
    }

    It 'filters with wildcards and several names, sorted by name' {
        (Get-MemStackInfo -Name 'charlie', 'alpha*' -Store $Store).Name | Should -Be @('alpha', 'alpha-2', 'charlie')
    }

    It 'takes names from the pipeline' {
        ('bravo', 'alpha' | Get-MemStackInfo -Store $Store).Name | Should -Be @('bravo', 'alpha')
    }

    It 'lists nothing, silently, for a store that does not exist' {
        Get-MemStackInfo -Store (New-TestStoreName) -ErrorVariable err | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty
    }

    It 'writes MemStackNotFound for a missing literal name' {
        Get-MemStackInfo -Name 'nope' -Store $Store -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeExactly "MemStackNotFound,$CommandId"
        $err[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::ObjectNotFound)
    }

    It 'formats as a table by default' {
        $text = Get-MemStackInfo -Store $Store | Out-String -Width 200
        $text | Should -Match 'Name\s+Size\s+TypeName\s+Modified\s+Expires\s+Version'
        $text | Should -Match 'alpha-2'
    }

    It 'stops at an invalid store name with InvalidStoreName' {
        { Get-MemStackInfo -Store '' } | Should -Throw -ErrorId "ParameterArgumentValidationError,$CommandId"
        { Get-MemStackInfo -Store 'a:b' } | Should -Throw -ErrorId "InvalidStoreName,$CommandId"
    }

    Context '-Store takes wildcards (issue 10 convention)' {
        BeforeAll {
            $Prefix = "pester-wild$([guid]::NewGuid().ToString('N').Substring(0, 6))"
            Set-MemStack -Name 'z' -Value 1 -Store "$Prefix-b"
            Set-MemStack -Name 'a' -Value 1 -Store "$Prefix-b"
            Set-MemStack -Name 'm' -Value 1 -Store "$Prefix-a"
        }
        AfterAll { Remove-TestStore "$Prefix-a", "$Prefix-b" }

        It 'lists the stacks of every matching store, by store and then by name' {
            $infos = Get-MemStackInfo -Store "$Prefix-*"
            ($infos | ForEach-Object { "$($_.Store)/$($_.Name)" }) | Should -Be @("$Prefix-a/m", "$Prefix-b/a", "$Prefix-b/z")
        }

        It '-Store * lists every stack of the user, ours among them' {
            $all = Get-MemStackInfo -Store *
            ($all | Where-Object Store -Like "$Prefix-*").Count | Should -Be 3
        }

        It 'filters by -Name across the matching stores, without errors for stores that lack the name' {
            (Get-MemStackInfo -Store "$Prefix-*" -Name 'a' -ErrorVariable err).Store | Should -BeExactly "$Prefix-b"
            $err | Should -BeNullOrEmpty
        }

        It 'is silent for a pattern that matches no store' {
            Get-MemStackInfo -Store 'no-such-store-*' -ErrorVariable err | Should -BeNullOrEmpty
            $err | Should -BeNullOrEmpty
        }
    }
}
