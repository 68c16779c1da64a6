# Runs once per backend (tools/PesterTest.ps1): the same cases on shared memory and on Redis.
param ([string] $Backend = 'SharedMemory')

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStore -Backend $Backend
    $CommandId = 'Memalloc.Commands.GetMemLockCommand'
}

AfterAll {
    Remove-TestStore $Store
}

Describe "Get-MemLock ($Backend)" {
    It 'lists nothing when no lock is held' {
        Get-MemLock -Store $Store | Should -BeNullOrEmpty
    }

    It 'lists the locks this runspace holds, sorted by name, with their holder and token' {
        $seen = Use-MemLock -Name 'b-lock' -Store $Store -ScriptBlock {
            $token = $_.Token
            Use-MemLock -Name 'a-lock' -Store $Store -ScriptBlock {
                [pscustomobject]@{ Locks = @(Get-MemLock -Store $Store); Token = $token }
            }
        }
        $seen.Locks.Name | Should -Be @('a-lock', 'b-lock')
        $b = $seen.Locks[1]
        $b | Should -BeOfType Memalloc.MemLockInfo
        $b.Store | Should -Be $Store
        $b.OwnerPid | Should -Be $PID
        $b.Token | Should -Be $seen.Token
        $b.Since | Should -BeOfType [datetime]
        $b.Since | Should -BeLessOrEqual (Get-Date)
        $b.Waiters | Should -Be 0
        Get-MemLock -Store $Store | Should -BeNullOrEmpty
    }

    It 'filters by wildcard and by exact name' {
        Use-MemLock -Name 'job/1' -Store $Store -ScriptBlock {
            Use-MemLock -Name 'other' -Store $Store -ScriptBlock {
                (Get-MemLock -Name 'job/*' -Store $Store).Name | Should -Be 'job/1'
                (Get-MemLock -Name 'other', 'missing' -Store $Store).Name | Should -Be 'other'
            }
        }
    }

    It 'counts the waiters of a lock, from any process' {
        Use-MemLock -Name 'contended' -Store $Store -ScriptBlock {
            $children = 1..2 | ForEach-Object { Start-ChildPwsh "Use-MemLock -Name 'contended' -Store '$Store' -ScriptBlock { 'got' }" }
            Wait-Until { (Get-MemLock -Name 'contended' -Store $Store).Waiters -eq 2 } | Should -BeTrue
            $script:children = $children
        }
        $script:children | Wait-ChildPwsh | Should -Be @('got', 'got')
    }

    It 'does not list a lock whose holder was killed' {
        $holder = Start-ChildPwsh "Use-MemLock -Name 'orphan' -Store '$Store' -ScriptBlock { Set-MemStack -Name 'orphan-pid' -Value `$PID -Store '$Store'; Start-Sleep -Seconds 600 }"
        $null = Wait-MemStack -Name 'orphan-pid' -Exists -Store $Store -Timeout 60
        (Get-MemLock -Name 'orphan' -Store $Store).OwnerPid | Should -Be (Get-MemStack -Name 'orphan-pid' -Store $Store)
        $holder.Process.Kill()
        $holder.Process.WaitForExit()
        if ($Backend -eq 'SharedMemory') {
            Get-MemLock -Name 'orphan' -Store $Store | Should -BeNullOrEmpty
        }
        else {
            # A Redis lock is a lease: a holder on another host cannot be seen to die, so the lock goes when its lease ends.
            Wait-Until { -not (Get-MemLock -Name 'orphan' -Store $Store) } | Should -BeTrue
        }
    }

    It 'does not create a store to list its locks' {
        $missing = New-TestStoreName
        Get-MemLock -Store $missing | Should -BeNullOrEmpty
        Get-MemStore -Name $missing -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'shows a table by default' {
        Use-MemLock -Name 'shown' -Store $Store -ScriptBlock {
            $text = Get-MemLock -Store $Store | Out-String
            $text | Should -Match 'Name\s+OwnerPid\s+Since\s+Waiters\s+Token'
            $text | Should -Match 'shown'
        }
    }

    It 'completes lock names for -Name' {
        Use-MemLock -Name 'complete-me' -Store $Store -ScriptBlock {
            Get-CompletionText "Get-MemLock -Store $Store -Name compl" | Should -Contain 'complete-me'
        }
    }

    It 'refuses an invalid store name' {
        { Get-MemLock -Store 'bad/store' } | Should -Throw -ErrorId "InvalidStoreName,$CommandId"
    }
}
