# Runs once per backend (tools/PesterTest.ps1): the same cases on shared memory and on Redis.
param ([string] $Backend = 'SharedMemory')

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStore -Backend $Backend
    $CommandId = 'Memalloc.Commands.WaitMemStackCommand'

    # Registered waiters of the test's store: a child that counts here has read its version and sleeps (or is about to).
    # Nothing until the child has made the store.
    function Get-Waiters { (Get-MemStore -Name $Store -ErrorAction Ignore).Waiters }

    # Runs a script in a runspace of this process without waiting; Stop() and EndInvoke() are the test's.
    function Start-InRunspace([string] $Script) {
        $shell = [powershell]::Create()
        $null = $shell.AddScript("Import-Module Memalloc; $Script")
        [pscustomobject]@{ Shell = $shell; Pending = $shell.BeginInvoke() }
    }
}

AfterAll {
    Remove-TestStore $Store
}

Describe "Wait-MemStack ($Backend)" {
    Context 'across processes' {
        It 'returns when another process writes, and not before' {
            $child = Start-ChildPwsh "(Wait-MemStack -Name 'w1' -Store '$Store' -Timeout 120).Version"
            Wait-ChildWaiting $child { (Get-Waiters) -ge 1 }
            Start-Sleep -Milliseconds 300
            $child.Process.HasExited | Should -BeFalse
            $written = Set-MemStack -Name 'w1' -Value 'now' -Store $Store -PassThru
            $child | Wait-ChildPwsh | Should -Be "$($written.Version)"
        }

        It 'returns nothing when another process removes the stack' {
            Set-MemStack -Name 'w2' -Value 1 -Store $Store
            $child = Start-ChildPwsh "`$i = Wait-MemStack -Name 'w2' -Store '$Store' -Timeout 120; if (`$null -eq `$i) { 'removed' }"
            Wait-ChildWaiting $child { (Get-Waiters) -ge 1 }
            Invoke-ChildPwsh "Remove-MemStack -Name 'w2' -Store '$Store'"
            $child | Wait-ChildPwsh | Should -Be 'removed'
        }

        It 'passes 1,000 rounds of ping-pong between two processes with -Version and loses no wake-up' {
            # No timeouts: a lost wake-up hangs a child, and Wait-ChildPwsh's caller notices.
            $ping = Start-ChildPwsh @"
`$pongVersion = 0
for (`$i = 1; `$i -le 1000; `$i++) {
    Set-MemStack -Name 'ping' -Value `$i -Store '$Store'
    do { `$pongVersion = (Wait-MemStack -Name 'pong' -Version `$pongVersion -Store '$Store').Version }
    until ((Get-MemStack -Name 'pong' -Store '$Store') -eq `$i)
}
'ping done'
"@
            $pong = Start-ChildPwsh @"
`$pingVersion = 0
for (`$i = 1; `$i -le 1000; `$i++) {
    do { `$pingVersion = (Wait-MemStack -Name 'ping' -Version `$pingVersion -Store '$Store').Version }
    until ((Get-MemStack -Name 'ping' -Store '$Store') -eq `$i)
    Set-MemStack -Name 'pong' -Value `$i -Store '$Store'
}
'pong done'
"@
            $finished = Wait-Until -TimeoutSeconds 300 { $ping.Process.HasExited -and $pong.Process.HasExited }
            if (-not $finished) { $ping.Process.Kill(); $pong.Process.Kill() }
            $finished | Should -BeTrue -Because 'a lost wake-up leaves both sides waiting for ever'
            $ping | Wait-ChildPwsh | Should -Be 'ping done'
            $pong | Wait-ChildPwsh | Should -Be 'pong done'
            Get-MemStack -Name 'pong' -Store $Store | Should -Be 1000
        }
    }

    Context 'modes' {
        It 'returns at once with -Version when the version differs' {
            $info = Set-MemStack -Name 'v1' -Value 1 -Store $Store -PassThru
            (Wait-MemStack -Name 'v1' -Version ($info.Version - 1) -Store $Store -Timeout 0).Version | Should -Be $info.Version
        }

        It 'takes -Version 0 for a missing stack' {
            (Wait-MemStack -Name 'v1' -Version 0 -Store $Store -Timeout 0).Name | Should -Be 'v1'
            Wait-MemStack -Name 'never-there' -Version 0 -Store $Store -Timeout 0 | Should -BeNullOrEmpty
        }

        It 'returns the info at once with -Exists when the stack exists' {
            Set-MemStack -Name 'e1' -Value 'x' -Store $Store
            $info = Wait-MemStack -Name 'e1' -Exists -Store $Store -Timeout 0
            $info | Should -BeOfType Memalloc.MemStackInfo
            $info.Name | Should -Be 'e1'
        }

        It 'returns when the stack is created with -Exists' {
            $waiter = Start-ThreadJob -ArgumentList $Store { param ($store) (Wait-MemStack -Name 'e2' -Exists -Store $store -Timeout 60).Name }
            Wait-Until { (Get-Waiters) -ge 1 } | Should -BeTrue
            Set-MemStack -Name 'e2' -Value 1 -Store $Store
            $waiter | Receive-EndedJob | Should -Be 'e2'
        }

        It 'waits for a change from the version piped from Get-MemStackInfo' {
            Set-MemStack -Name 'p1' -Value 1 -Store $Store
            $waiter = Start-ThreadJob -ArgumentList $Store { param ($store) (Get-MemStackInfo -Name 'p1' -Store $store | Wait-MemStack -Timeout 60).Version }
            Wait-Until { (Get-Waiters) -ge 1 } | Should -BeTrue
            $written = Set-MemStack -Name 'p1' -Value 2 -Store $Store -PassThru
            $waiter | Receive-EndedJob | Should -Be $written.Version
        }

        It 'ends the wait with nothing when the stack expires' {
            $info = Set-MemStack -Name 'ttl' -Value 1 -TimeToLive 1 -Store $Store -PassThru
            # No -Timeout: only the expiry can end this wait.
            $run = Start-InRunspace "`$i = Wait-MemStack -Name 'ttl' -Version $($info.Version) -Store '$Store'; `$null -eq `$i"
            $run.Pending.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(60)) | Should -BeTrue
            $run.Shell.EndInvoke($run.Pending) | Should -BeTrue
            $run.Shell.Dispose()
        }

        It 'waits on a queue''s name for its next send' {
            Send-MemQueue -Name 'q1' -Value 'a' -Store $Store
            $before = Get-MemStackInfo -Name 'q1' -Store $Store
            $waiter = Start-ThreadJob -ArgumentList $Store, $before.Version { param ($store, $version) (Wait-MemStack -Name 'q1' -Version $version -Store $store -Timeout 60).Count }
            Send-MemQueue -Name 'q1' -Value 'b' -Store $Store
            $waiter | Receive-EndedJob | Should -Be 2
        }
    }

    Context 'timeouts and stopping' {
        It 'returns nothing and no error when -Timeout passes' {
            $result = Wait-MemStack -Name 'quiet' -Store $Store -Timeout 0.2 -ErrorVariable problems
            $result | Should -BeNullOrEmpty
            $problems | Should -BeNullOrEmpty
        }

        It 'takes -Timeout as a TimeSpan' {
            Wait-MemStack -Name 'quiet' -Exists -Store $Store -Timeout ([timespan]::FromMilliseconds(100)) | Should -BeNullOrEmpty
        }

        It 'ends at once when stopped (Ctrl+C)' {
            $run = Start-InRunspace "Wait-MemStack -Name 'stopped' -Store '$Store'"
            Wait-Until { (Get-Waiters) -ge 1 } | Should -BeTrue
            $stopping = $run.Shell.BeginStop($null, $null)
            # No timeout on the wait and no writer: only the stop can end it.
            $stopping.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(30)) | Should -BeTrue
            $run.Shell.EndStop($stopping)
            $run.Shell.InvocationStateInfo.State | Should -Be 'Stopped'
            $run.Shell.Dispose()
            Wait-Until { (Get-Waiters) -eq 0 } | Should -BeTrue -Because 'a stopped wait unregisters'
        }

        It 'wakes a waiter in another runspace of the same process' {
            $waiter = 1 | ForEach-Object -AsJob -Parallel { (Wait-MemStack -Name 'rs' -Exists -Store $using:Store -Timeout 60).Name }
            Wait-Until { (Get-Waiters) -ge 1 } | Should -BeTrue
            Set-MemStack -Name 'rs' -Value 1 -Store $Store
            $waiter | Receive-EndedJob | Should -Be 'rs'
        }
    }

    Context 'bad input' {
        It 'refuses a negative timeout' {
            { Wait-MemStack -Name 'x' -Store $Store -Timeout -1 } | Should -Throw -ErrorId "InvalidTimeout,$CommandId"
        }

        It 'refuses an invalid name' {
            { Wait-MemStack -Name "a`tb" -Store $Store -Timeout 0 } | Should -Throw -ErrorId "InvalidName,$CommandId"
        }

        It 'refuses -Version together with -Exists' {
            { Wait-MemStack -Name 'x' -Version 1 -Exists -Store $Store } | Should -Throw -ErrorId 'AmbiguousParameterSet,Memalloc.Commands.WaitMemStackCommand'
        }
    }
}
