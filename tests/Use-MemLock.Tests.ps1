# Runs once per backend (tools/PesterTest.ps1): the same cases on shared memory and on Redis.
param ([string] $Backend = 'SharedMemory')

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStore -Backend $Backend
    $CommandId = 'Memalloc.Commands.UseMemLockCommand'

    # Waiters for one lock (a holder's own Wait-MemStack for its release counts in Get-MemStore's Waiters, not here).
    function Get-LockWaiters([string] $Lock) { (Get-MemLock -Name $Lock -Store $Store).Waiters }

    # A child pwsh that takes the lock, says so by writing a stack, and holds it until the stack 'release-<name>' exists.
    function Start-Holder([string] $Lock) {
        Start-ChildPwsh @"
Use-MemLock -Name '$Lock' -Store '$Store' -ScriptBlock {
    Set-MemStack -Name 'held-$Lock' -Value `$PID -Store '$Store'
    `$null = Wait-MemStack -Name 'release-$Lock' -Exists -Store '$Store'
}
'released'
"@
    }
}

AfterAll {
    Remove-TestStore $Store
}

Describe "Use-MemLock ($Backend)" {
    Context 'the script block' {
        It 'runs the block and returns its output' {
            Use-MemLock -Name 'l1' -Store $Store -ScriptBlock { 1; 'two' } | Should -Be @(1, 'two')
        }

        It 'gives the lock''s information as $_ and as the first argument' {
            $info = Use-MemLock -Name 'l2' -Store $Store -ScriptBlock { param ($lock) $_; $lock }
            $info[0] | Should -BeOfType Memalloc.MemLockInfo
            $info[0].Name | Should -Be 'l2'
            $info[0].Store | Should -Be $Store
            $info[0].Token | Should -BeGreaterThan 0
            $info[1].Token | Should -Be $info[0].Token
        }

        It 'gives a token that grows with every acquisition' {
            $first = Use-MemLock -Name 'l3' -Store $Store -ScriptBlock { $_.Token }
            Set-MemStack -Name 'unrelated' -Value 1 -Store $Store
            $second = Use-MemLock -Name 'l3' -Store $Store -ScriptBlock { $_.Token }
            $second | Should -BeGreaterThan $first
        }

        It 'sees the caller''s variables' {
            $suffix = 'tail'
            Use-MemLock -Name 'l4' -Store $Store -ScriptBlock { "head-$suffix" } | Should -Be 'head-tail'
        }

        It 'releases the lock when the block throws' {
            { Use-MemLock -Name 'l5' -Store $Store -ScriptBlock { throw 'inside' } } | Should -Throw 'inside'
            Use-MemLock -Name 'l5' -Store $Store -Timeout 0 -ScriptBlock { 'free again' } | Should -Be 'free again'
            Get-MemLock -Name 'l5' -Store $Store | Should -BeNullOrEmpty
        }

        It 'keeps lock names apart from stack names' {
            Set-MemStack -Name 'counter' -Value 0 -Store $Store
            Use-MemLock -Name 'counter' -Store $Store -ScriptBlock { Set-MemStack -Name 'counter' -Value 1 -Store $Store }
            Get-MemStack -Name 'counter' -Store $Store | Should -Be 1
        }
    }

    Context 'exclusion' {
        It 'times out with MemLockTimeout while another process holds the lock, and does not run the block' {
            $holder = Start-Holder 'x1'
            try {
                Wait-MemStack -Name 'held-x1' -Exists -Store $Store -Timeout 60 | Should -Not -BeNullOrEmpty
                $ran = $false
                $failure = { Use-MemLock -Name 'x1' -Store $Store -Timeout 0.2 -ScriptBlock { $script:ran = $true } } |
                    Should -Throw -ErrorId "MemLockTimeout,$CommandId" -PassThru
                $failure.CategoryInfo.Category | Should -Be 'OperationTimeout'
                $failure.Exception | Should -BeOfType [System.TimeoutException]
                $ran | Should -BeFalse
            }
            finally {
                Set-MemStack -Name 'release-x1' -Value 1 -Store $Store
                $holder | Wait-ChildPwsh | Should -Be 'released'
            }
        }

        It 'tries once with -Timeout 0' {
            $holder = Start-Holder 'x2'
            try {
                $null = Wait-MemStack -Name 'held-x2' -Exists -Store $Store -Timeout 60
                { Use-MemLock -Name 'x2' -Store $Store -Timeout 0 -ScriptBlock { } } | Should -Throw -ErrorId "MemLockTimeout,$CommandId"
            }
            finally {
                Set-MemStack -Name 'release-x2' -Value 1 -Store $Store
                $null = $holder | Wait-ChildPwsh
            }
            Use-MemLock -Name 'x2' -Store $Store -Timeout 0 -ScriptBlock { 'mine' } | Should -Be 'mine'
        }

        It 'gets the lock when the holder releases it' {
            $holder = Start-Holder 'x3'
            $null = Wait-MemStack -Name 'held-x3' -Exists -Store $Store -Timeout 60
            $waiter = Start-ThreadJob -ArgumentList $Store { param ($store) Use-MemLock -Name 'x3' -Store $store -ScriptBlock { 'got it' } }
            Wait-Until { (Get-LockWaiters 'x3') -ge 1 } | Should -BeTrue
            $waiter.State | Should -Be 'Running'
            Set-MemStack -Name 'release-x3' -Value 1 -Store $Store
            $waiter | Receive-EndedJob | Should -Be 'got it'
            $null = $holder | Wait-ChildPwsh
        }

        It 'makes another runspace of the same process wait' {
            Use-MemLock -Name 'x4' -Store $Store -ScriptBlock {
                $other = Start-ThreadJob -ArgumentList $Store { param ($store) Use-MemLock -Name 'x4' -Store $store -Timeout 0.2 -ScriptBlock { 'ran' } }
                $output = $other | Receive-EndedJob -ErrorVariable problems -ErrorAction SilentlyContinue
                $output | Should -BeNullOrEmpty
                $problems.FullyQualifiedErrorId | Should -Be "MemLockTimeout,$CommandId"
            }
        }

        It 'runs a nested acquisition of the same runspace at once and releases only at the outermost' {
            $result = Use-MemLock -Name 'x5' -Store $Store -Timeout 0 -ScriptBlock {
                $outer = $_.Token
                Use-MemLock -Name 'x5' -Store $Store -Timeout 0 -ScriptBlock { $_.Token -eq $outer }
                # Still held after the inner block: another process cannot take it.
                Invoke-ChildPwsh "try { Use-MemLock -Name 'x5' -Store '$Store' -Timeout 0 -ScriptBlock { 'taken' } } catch { 'held' }"
            }
            $result | Should -Be @($true, 'held')
            Invoke-ChildPwsh "Use-MemLock -Name 'x5' -Store '$Store' -Timeout 0 -ScriptBlock { 'taken' }" | Should -Be 'taken'
        }

        It 'serialises 4 processes x 250 increments of a plain counter to exactly 1000' {
            Set-MemStack -Name 'plain' -Value 0 -Store $Store
            $children = 1..4 | ForEach-Object {
                Start-ChildPwsh "1..250 | ForEach-Object { Use-MemLock -Name 'plain' -Store '$Store' -ScriptBlock { Set-MemStack -Name 'plain' -Value ((Get-MemStack -Name 'plain' -Store '$Store') + 1) -Store '$Store' } }; 'done'"
            }
            $children | Wait-ChildPwsh | Should -Be @('done', 'done', 'done', 'done')
            Get-MemStack -Name 'plain' -Store $Store | Should -Be 1000
        }
    }

    Context 'a holder that dies or is stopped' {
        It 'passes the lock to a waiter when the holder is killed with SIGKILL inside the block' {
            $holder = Start-Holder 'k1'
            $holderPid = Wait-MemStack -Name 'held-k1' -Exists -Store $Store -Timeout 60 | ForEach-Object { Get-MemStack -Name 'held-k1' -Store $Store }
            $waiter = Start-ThreadJob -ArgumentList $Store { param ($store) Use-MemLock -Name 'k1' -Store $store -ScriptBlock { $_.Token } }
            Wait-Until { (Get-LockWaiters 'k1') -ge 1 } | Should -BeTrue
            $before = (Get-MemLock -Name 'k1' -Store $Store).Token

            kill -KILL $holderPid
            $holder.Process.WaitForExit()

            # No -Timeout on the waiter: only noticing the death can let it in.
            $waiter | Wait-Job -Timeout 60 | Should -Not -BeNullOrEmpty
            $waiter | Receive-EndedJob | Should -BeGreaterThan $before
        }

        It 'ends the wait at once when stopped (Ctrl+C), and gives the lock back when stopped inside the block' {
            $holder = Start-Holder 's1'
            $null = Wait-MemStack -Name 'held-s1' -Exists -Store $Store -Timeout 60
            $shell = [powershell]::Create().AddScript("Import-Module Memalloc; Use-MemLock -Name 's1' -Store '$Store' -ScriptBlock { 'ran' }")
            $pending = $shell.BeginInvoke()
            Wait-Until { (Get-LockWaiters 's1') -ge 1 } | Should -BeTrue
            $stopping = $shell.BeginStop($null, $null)
            $stopping.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(30)) | Should -BeTrue
            $shell.InvocationStateInfo.State | Should -Be 'Stopped'
            $shell.Dispose()
            Set-MemStack -Name 'release-s1' -Value 1 -Store $Store
            $null = $holder | Wait-ChildPwsh

            $inside = [powershell]::Create().AddScript("Import-Module Memalloc; Use-MemLock -Name 's2' -Store '$Store' -ScriptBlock { Set-MemStack -Name 'in-s2' -Value 1 -Store '$Store'; Start-Sleep -Seconds 600 }")
            $pending = $inside.BeginInvoke()
            Wait-MemStack -Name 'in-s2' -Exists -Store $Store -Timeout 60 | Should -Not -BeNullOrEmpty
            $stopping = $inside.BeginStop($null, $null)
            $stopping.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(30)) | Should -BeTrue
            $inside.Dispose()
            Use-MemLock -Name 's2' -Store $Store -Timeout 0 -ScriptBlock { 'free' } | Should -Be 'free'
        }
    }

    Context 'many names' {
        It 'holds 256 locks at once and lists them' {
            function Hold([int] $Depth) {
                if ($Depth -eq 0) { return (Get-MemLock -Name 'many-*' -Store $Store).Count }
                Use-MemLock -Name "many-$Depth" -Store $Store -Timeout 0 -ScriptBlock { Hold ($Depth - 1) }
            }
            Hold 256 | Should -Be 256
            Get-MemLock -Name 'many-*' -Store $Store | Should -BeNullOrEmpty
        }

        It 'takes 10,000 different names over time without filling the store' {
            1..10000 | ForEach-Object { Use-MemLock -Name "name-$_" -Store $Store -ScriptBlock { } }
            Get-MemLock -Store $Store | Should -BeNullOrEmpty
            (Test-MemStore -Name $Store) | Should -BeTrue
        }
    }

    Context 'bad input' {
        It 'refuses a negative timeout' {
            { Use-MemLock -Name 'b' -Store $Store -Timeout -1 -ScriptBlock { } } | Should -Throw -ErrorId "InvalidTimeout,$CommandId"
        }

        It 'refuses an invalid lock name' {
            { Use-MemLock -Name '' -Store $Store -ScriptBlock { } } | Should -Throw -ErrorId "InvalidName,$CommandId"
            { Use-MemLock -Name ('n' * 256) -Store $Store -ScriptBlock { } } | Should -Throw -ErrorId "InvalidName,$CommandId"
        }

        It 'refuses an invalid store name' {
            { Use-MemLock -Name 'b' -Store 'bad/store' -ScriptBlock { } } | Should -Throw -ErrorId "InvalidStoreName,$CommandId"
        }
    }
}
