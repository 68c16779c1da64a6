# Sharing between runspaces of one process: thread jobs, ForEach-Object -Parallel, raw runspaces.
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

Describe "Sharing between runspaces ($Backend)" {
    It 'imports the module from many runspaces at once' {
        $results = 1..16 | ForEach-Object -ThrottleLimit 16 -Parallel {
            Import-Module Memalloc -ErrorAction Stop
            (Get-Command -Module Memalloc).Count
        }
        $results | Should -HaveCount 16
        $expected = (Get-Command -Module Memalloc).Count
        $expected | Should -BeGreaterThan 0
        $results | ForEach-Object { $_ | Should -Be $expected }
    }

    It 'reads and writes the parent''s values from ForEach-Object -Parallel' {
        Set-MemStack -Name 'parent-value' -Value 'from parent' -Store $Store
        $read = 1..4 | ForEach-Object -Parallel {
            Import-Module Memalloc
            Set-MemStack -Name "child-$_" -Value ($_ * 10) -Store $using:Store
            Get-MemStack -Name 'parent-value' -Store $using:Store
        }
        $read | Should -Be @('from parent', 'from parent', 'from parent', 'from parent')
        1..4 | ForEach-Object { Get-MemStack -Name "child-$_" -Store $Store | Should -Be ($_ * 10) }
    }

    It 'reads and writes the parent''s values from Start-ThreadJob' {
        Set-MemStack -Name 'thread-in' -Value @{ n = 41 } -Store $Store
        $job = Start-ThreadJob -ScriptBlock {
            Import-Module Memalloc
            $value = Get-MemStack -Name 'thread-in' -Store $using:Store
            Set-MemStack -Name 'thread-out' -Value ($value.n + 1) -Store $using:Store
            'done'
        }
        $job | Wait-Job | Receive-Job | Should -Be 'done'
        $job | Remove-Job
        Get-MemStack -Name 'thread-out' -Store $Store | Should -Be 42
    }

    It 'loses no append from 200 parallel updates (-ThrottleLimit 8)' -Tag 'Slow' {
        1..200 | ForEach-Object -ThrottleLimit 8 -Parallel {
            Import-Module Memalloc
            $n = $_
            Update-MemStack -Name 'appended' -ScriptBlock { @($_) + $n } -InitialValue @() -Store $using:Store
        }
        $items = Get-MemStack -Name 'appended' -Store $Store
        $items.Count | Should -Be 200
        ($items | Sort-Object) | Should -Be (1..200)
    }

    It 'keeps working in other runspaces after the module is removed from one' {
        $runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        try {
            $ps = [powershell]::Create($runspace)
            $null = $ps.AddScript("Import-Module Memalloc; Set-MemStack -Name 'rs' -Value 1 -Store '$Store'; Remove-Module Memalloc").Invoke()
            $ps.Dispose()
        }
        finally {
            $runspace.Dispose()
        }
        Get-MemStack -Name 'rs' -Store $Store | Should -Be 1
        Set-MemStack -Name 'rs' -Value 2 -Store $Store
        Get-MemStack -Name 'rs' -Store $Store | Should -Be 2
    }

    # Issue 9, defect 7: instances dropped from the cache are disposed, but only once no runspace is inside a call
    # on them: a runspace reading and writing while another removes the store sees its values, their absence, or
    # (a write that met the removal twice) StoreRemoved; never a disposed store.
    It 'never fails a call in one runspace while another removes and forgets the store' -Skip:($Backend -ne 'SharedMemory') {
        $other = New-TestStoreName
        try {
            $errors = 1..3 | ForEach-Object -ThrottleLimit 3 -Parallel {
                Import-Module Memalloc
                $store = $using:other
                for ($i = 0; $i -lt 300; $i++) {
                    try {
                        if ($_ -eq 1) {
                            Remove-MemStore -Name $store -Force -ErrorAction SilentlyContinue
                        }
                        else {
                            Set-MemStack -Name "k$_" -Value $i -Store $store -ErrorAction Continue 2>&1
                            Get-MemStack -Name "k$_" -Store $store -ErrorAction Continue 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }
                            Get-MemStackInfo -Store $store -ErrorAction Continue 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }
                        }
                    }
                    catch {
                        $_
                    }
                }
            } | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] -and $_.FullyQualifiedErrorId -notmatch '^(StoreRemoved|MemStackNotFound),' }
            $errors | Should -BeNullOrEmpty -Because "$($errors | Select-Object -First 3 | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" })"
        }
        finally {
            Remove-TestStore $other
        }
    }

    It 'sees in every runspace a store that one runspace removed and another made again' -Skip:($Backend -ne 'SharedMemory') {
        $other = New-TestStoreName
        try {
            Set-MemStack -Name 'a' -Value 1 -Store $other
            $null = 1 | ForEach-Object -Parallel {
                Import-Module Memalloc
                Remove-MemStore -Name $using:other -Force
                Set-MemStack -Name 'b' -Value 2 -Store $using:other
            }
            Test-MemStack -Name 'a' -Store $other | Should -BeFalse
            Get-MemStack -Name 'b' -Store $other | Should -Be 2
        }
        finally {
            Remove-TestStore $other
        }
    }
}
