# Sharing between separate pwsh processes: what the module is for.
# Runs once per backend (tools/PesterTest.ps1); the cases about a shared-memory store removed and made again run on
# shared memory only.
param ([string] $Backend = 'SharedMemory')

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStore -Backend $Backend
}

AfterAll {
    Remove-TestStore $Store
}

Describe "Sharing between pwsh processes ($Backend)" {
    It 'reads in a child process what this process wrote' {
        Set-MemStack -Name 'from-parent' -Value "héllo 日本 $([char]::ConvertFromUtf32(0x1F680))" -Store $Store
        $text = Invoke-ChildPwsh "(Get-MemStack -Name 'from-parent' -Store '$Store') -eq `"héllo 日本 `$([char]::ConvertFromUtf32(0x1F680))`""
        $text | Should -Be 'True'
    }

    It 'reads in this process what a child process wrote' {
        Invoke-ChildPwsh "Set-MemStack -Name 'from-child' -Value ([ordered]@{ pid = `$PID; list = @(1, 2, 3); when = [datetime]'2024-01-02' }) -Store '$Store'"
        $value = Get-MemStack -Name 'from-child' -Store $Store
        $value | Should -BeOfType [System.Collections.Specialized.OrderedDictionary]
        $value.pid | Should -Not -Be $PID
        $value.list.Count | Should -Be 3
        $value.when | Should -Be ([datetime]'2024-01-02')
    }

    It 'runs the seed example across three processes' {
        Invoke-ChildPwsh "Set-MemStack -Name 'var1' -Value 'Foobar' -Store '$Store'"
        Invoke-ChildPwsh "`$data = Get-MemStack -Name 'var1' -Store '$Store'; `$data += '123'; Set-MemStack -Name 'var1' -Value `$data -Store '$Store'"
        Invoke-ChildPwsh "Get-MemStack -Name 'var1' -Store '$Store'; Remove-MemStack -Name 'var1' -Store '$Store'" | Should -Be 'Foobar123'
        Test-MemStack -Name 'var1' -Store $Store | Should -BeFalse
    }

    It 'sees a stack removed by another process as missing' {
        Set-MemStack -Name 'to-remove' -Value 1 -Store $Store
        Invoke-ChildPwsh "Remove-MemStack -Name 'to-remove' -Store '$Store'"
        Test-MemStack -Name 'to-remove' -Store $Store | Should -BeFalse
        { Get-MemStack -Name 'to-remove' -Store $Store -ErrorAction Stop } |
            Should -Throw -ErrorId 'MemStackNotFound,Memalloc.Commands.GetMemStackCommand'
    }

    It 'carries a byte array of several MiB to another process' {
        $bytes = [byte[]]::new(3MB)
        [System.Random]::new(7).NextBytes($bytes)
        Set-MemStack -Name 'big' -Value $bytes -Store $Store
        $expected = [Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($bytes))
        Invoke-ChildPwsh "[Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData([byte[]](Get-MemStack -Name 'big' -Store '$Store')))" |
            Should -Be $expected
    }

    It 'copes with a store another process removed and made again' -Skip:($Backend -ne 'SharedMemory') {
        $other = New-TestStoreName
        try {
            Set-MemStack -Name 'old' -Value 1 -Store $other
            Invoke-ChildPwsh "Remove-MemStore -Name '$other' -Force; Set-MemStack -Name 'new' -Value 2 -Store '$other'"
            Test-MemStack -Name 'old' -Store $other | Should -BeFalse
            Get-MemStack -Name 'new' -Store $other | Should -Be 2
            Set-MemStack -Name 'again' -Value 3 -Store $other
            Invoke-ChildPwsh "Get-MemStack -Name 'again' -Store '$other'" | Should -Be '3'
        }
        finally {
            Remove-TestStore $other
        }
    }

    # Issue 9, defect 3 (ABA): the update read version 1 of the old store; the re-created store's first write must
    # not match it, and the update must start over from the new value rather than be replayed into the new store.
    It 'never replays an update into a store removed and made again meanwhile (ABA)' -Skip:($Backend -ne 'SharedMemory') {
        $other = New-TestStoreName
        $flag = Join-Path ([System.IO.Path]::GetTempPath()) "memalloc-aba-$([guid]::NewGuid().ToString('N'))"
        try {
            Set-MemStack -Name 'c' -Value 0 -Store $other
            $updater = Start-ChildPwsh (
                "Update-MemStack -Name 'c' -Store '$other' -PassThru -ScriptBlock { " +
                "`$null = New-Item -ItemType File -Path '$flag.read' -Force; " +
                "while (-not (Test-Path -LiteralPath '$flag.go')) { Start-Sleep -Milliseconds 20 }; `$_ + 1 }")
            Wait-Until { Test-Path -LiteralPath "$flag.read" } | Should -BeTrue
            Invoke-ChildPwsh "Remove-MemStore -Name '$other' -Force; Set-MemStack -Name 'c' -Value 100 -Store '$other'"
            $null = New-Item -ItemType File -Path "$flag.go"
            $updater | Wait-ChildPwsh | Should -Be '101'
            Get-MemStack -Name 'c' -Store $other | Should -Be 101
        }
        finally {
            Remove-Item -LiteralPath "$flag.read", "$flag.go" -ErrorAction Ignore
            Remove-TestStore $other
        }
    }

    It 'treats a store removed by another process as empty for readers' -Skip:($Backend -ne 'SharedMemory') {
        $other = New-TestStoreName
        Set-MemStack -Name 'x' -Value 1 -Store $other
        Invoke-ChildPwsh "Remove-MemStore -Name '$other' -Force"
        Test-MemStack -Name 'x' -Store $other | Should -BeFalse
        Get-MemStackInfo -Store $other -ErrorVariable err | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty
        Get-MemStore -Name $other -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'shares through Start-Job (a separate process)' {
        Set-MemStack -Name 'job-in' -Value 20 -Store $Store
        $job = Start-Job -ScriptBlock {
            Import-Module Memalloc
            $value = Get-MemStack -Name 'job-in' -Store $using:Store
            Set-MemStack -Name 'job-out' -Value ($value + 1) -Store $using:Store
        }
        $null = $job | Wait-Job
        $job.State | Should -Be 'Completed'
        $job | Remove-Job
        Get-MemStack -Name 'job-out' -Store $Store | Should -Be 21
    }

    It 'loses no increment from 4 processes x 250 at once' -Tag 'Slow' {
        $children = 1..4 | ForEach-Object {
            Start-ChildPwsh "1..250 | ForEach-Object { Update-MemStack -Name 'hits' -Increment 1 -Store '$Store' }"
        }
        $children | Wait-ChildPwsh
        Get-MemStack -Name 'hits' -Store $Store | Should -Be 1000
    }

    It 'loses no script-block update from 4 processes at once' -Tag 'Slow' {
        Set-MemStack -Name 'appends' -Value @() -Store $Store
        $children = 1..4 | ForEach-Object {
            Start-ChildPwsh "1..25 | ForEach-Object { `$item = `"$_-`$_`"; Update-MemStack -Name 'appends' -ScriptBlock { @(`$_) + `$item } -Store '$Store' }"
        }
        $children | Wait-ChildPwsh
        $items = Get-MemStack -Name 'appends' -Store $Store
        $items.Count | Should -Be 100
        ($items | Sort-Object -Unique).Count | Should -Be 100
    }
}
