# Runs once per backend (tools/PesterTest.ps1): the same cases on shared memory and on Redis.
param ([string] $Backend = 'SharedMemory')

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStore -Backend $Backend
    $CommandId = 'Memalloc.Commands.SendMemQueueCommand'
}

AfterAll {
    Remove-TestStore $Store
}

Describe "Send-MemQueue ($Backend)" {
    It 'appends one item per call, first in first out' {
        Send-MemQueue -Name 'fifo' -Value 'a' -Store $Store | Should -BeNullOrEmpty
        Send-MemQueue -Name 'fifo' -Value 'b' -Store $Store
        Receive-MemQueue -Name 'fifo' -Count 5 -Store $Store | Should -Be @('a', 'b')
    }

    It 'makes each piped object an item of its own, in order' {
        1..5 | Send-MemQueue -Name 'piped' -Store $Store
        (Get-MemStackInfo -Name 'piped' -Store $Store).Count | Should -Be 5
        Receive-MemQueue -Name 'piped' -Count 10 -Store $Store | Should -Be @(1, 2, 3, 4, 5)
    }

    It 'keeps an array given with -Value as one item' {
        Send-MemQueue -Name 'array' -Value @(1, 2, 3) -Store $Store
        (Get-MemStackInfo -Name 'array' -Store $Store).Count | Should -Be 1
        $item = Receive-MemQueue -Name 'array' -Store $Store
        $item.Count | Should -Be 3
    }

    It 'round-trips items through CliXml as Import-Clixml does' {
        Send-MemQueue -Name 'typed' -Value @{ when = [datetime]'2024-05-06'; n = 7 } -Store $Store
        Send-MemQueue -Name 'typed' -Value $null -Store $Store
        Send-MemQueue -Name 'typed' -Value (Get-Item -LiteralPath $PSHOME) -Store $Store
        $first = Receive-MemQueue -Name 'typed' -Store $Store
        $first | Should -BeOfType [hashtable]
        $first.when | Should -Be ([datetime]'2024-05-06')
        $second = @(Receive-MemQueue -Name 'typed' -Store $Store)
        $second.Count | Should -Be 1
        $null -eq $second[0] | Should -BeTrue
        (Receive-MemQueue -Name 'typed' -Store $Store).PSObject.TypeNames[0] | Should -Be 'Deserialized.System.IO.DirectoryInfo'
    }

    It 'serialises to -Depth' {
        # Containers are never cut (as in Set-MemStack): an adapted .NET object two levels down is.
        $deep = [pscustomobject]@{ File = [System.IO.FileInfo]::new('/etc/hostname') }
        Send-MemQueue -Name 'deep' -Value $deep -Depth 1 -Store $Store -WarningVariable warnings -WarningAction SilentlyContinue
        $warnings.Message | Should -Match 'Depth 1'
        (Receive-MemQueue -Name 'deep' -Store $Store).File.Directory | Should -BeOfType [string]
    }

    It 'shows the queue in Get-MemStackInfo with its item count and bytes' {
        'x', 'yy' | Send-MemQueue -Name 'shown' -Store $Store
        $info = Get-MemStackInfo -Name 'shown' -Store $Store
        $info.Kind | Should -Be 'Queue'
        $info.Count | Should -Be 2
        $info.Size | Should -BeGreaterThan 0
        $info.TypeName | Should -BeNullOrEmpty
        $before = $info.Size
        $null = Receive-MemQueue -Name 'shown' -Store $Store
        (Get-MemStackInfo -Name 'shown' -Store $Store).Size | Should -BeLessThan $before
    }

    It 'refuses to send to a stack''s name, and changes nothing' {
        Set-MemStack -Name 'a-stack' -Value 1 -Store $Store
        Send-MemQueue -Name 'a-stack' -Value 2 -Store $Store -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems[0].FullyQualifiedErrorId | Should -Be "MemQueueIsStack,$CommandId"
        $problems[0].CategoryInfo.Category | Should -Be 'InvalidType'
        Get-MemStack -Name 'a-stack' -Store $Store | Should -Be 1
    }

    It 'makes the stack cmdlets refuse a queue''s name' {
        Send-MemQueue -Name 'a-queue' -Value 1 -Store $Store
        { Get-MemStack -Name 'a-queue' -Store $Store -ErrorAction Stop } | Should -Throw -ErrorId 'MemStackIsQueue,Memalloc.Commands.GetMemStackCommand'
        { Set-MemStack -Name 'a-queue' -Value 2 -Store $Store -ErrorAction Stop } | Should -Throw -ErrorId 'MemStackIsQueue,Memalloc.Commands.SetMemStackCommand'
        { Update-MemStack -Name 'a-queue' -Increment 1 -Store $Store -ErrorAction Stop } | Should -Throw -ErrorId 'MemStackIsQueue,Memalloc.Commands.UpdateMemStackCommand'
        Test-MemStack -Name 'a-queue' -Store $Store | Should -BeTrue
        Receive-MemQueue -Name 'a-queue' -Store $Store | Should -Be 1
    }

    It 'removes a queue with its items through Remove-MemStack, and a new one starts empty' {
        1..3 | Send-MemQueue -Name 'gone' -Store $Store
        Remove-MemStack -Name 'gone' -Store $Store
        Test-MemStack -Name 'gone' -Store $Store | Should -BeFalse
        Send-MemQueue -Name 'gone' -Value 'fresh' -Store $Store
        Receive-MemQueue -Name 'gone' -Count 10 -Store $Store | Should -Be 'fresh'
        Test-MemStore -Name $Store | Should -BeTrue
    }

    # A shared-memory store's maximum capacity; a Redis server's maxmemory is its operator's (an OOM error maps to StoreFull).
    It 'fails with StoreFull when the store cannot hold the item, and keeps the items sent before' -Skip:($Backend -ne 'SharedMemory') {
        $small = New-TestStoreName
        try {
            $output = Invoke-ChildPwsh @"
`$env:MEMALLOC_MAX_CAPACITY = 2MB
Send-MemQueue -Name 'full' -Value 'first' -Store '$small'
try { Send-MemQueue -Name 'full' -Value ('x' * 4MB) -Store '$small' -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.CategoryInfo.Category }
(Get-MemStackInfo -Name 'full' -Store '$small').Count
Receive-MemQueue -Name 'full' -Store '$small'
"@
            $output | Should -Be @("StoreFull,$CommandId", 'LimitsExceeded', '1', 'first')
        }
        finally {
            Remove-TestStore $small
        }
    }

    It 'completes queue names for -Name' {
        Send-MemQueue -Name 'complete-queue' -Value 1 -Store $Store
        Get-CompletionText "Send-MemQueue -Store $Store -Name complete-q" | Should -Contain 'complete-queue'
    }

    It 'refuses an invalid name' {
        { Send-MemQueue -Name '' -Value 1 -Store $Store } | Should -Throw -ErrorId "InvalidName,$CommandId"
    }
}
