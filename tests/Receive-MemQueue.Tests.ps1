# Runs once per backend (tools/PesterTest.ps1): the same cases on shared memory and on Redis.
param ([string] $Backend = 'SharedMemory')

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStore -Backend $Backend
    $CommandId = 'Memalloc.Commands.ReceiveMemQueueCommand'

    function Get-Waiters { (Get-MemStore -Name $Store -ErrorAction Ignore).Waiters }
}

AfterAll {
    Remove-TestStore $Store
}

Describe "Receive-MemQueue ($Backend)" {
    Context 'taking items' {
        It 'returns nothing for an empty or missing queue' {
            Receive-MemQueue -Name 'none' -Store $Store | Should -BeNullOrEmpty
            Send-MemQueue -Name 'emptied' -Value 1 -Store $Store
            $null = Receive-MemQueue -Name 'emptied' -Store $Store
            Receive-MemQueue -Name 'emptied' -Store $Store | Should -BeNullOrEmpty
            (Get-MemStackInfo -Name 'emptied' -Store $Store).Count | Should -Be 0
        }

        It 'takes up to -Count items, oldest first' {
            1..5 | Send-MemQueue -Name 'counted' -Store $Store
            Receive-MemQueue -Name 'counted' -Count 2 -Store $Store | Should -Be @(1, 2)
            Receive-MemQueue -Name 'counted' -Count 10 -Store $Store | Should -Be @(3, 4, 5)
        }

        It 'refuses to receive from a stack''s name' {
            Set-MemStack -Name 'stacked' -Value 1 -Store $Store
            Receive-MemQueue -Name 'stacked' -Store $Store -ErrorVariable problems -ErrorAction SilentlyContinue
            $problems[0].FullyQualifiedErrorId | Should -Be "MemQueueIsStack,$CommandId"
            Get-MemStack -Name 'stacked' -Store $Store | Should -Be 1
        }
    }

    Context '-Wait' {
        It 'returns at once when an item is there' {
            Send-MemQueue -Name 'ready' -Value 'here' -Store $Store
            Receive-MemQueue -Name 'ready' -Wait -Timeout 0 -Store $Store | Should -Be 'here'
        }

        It 'waits for an item sent by another process, and not before' {
            $child = Start-ChildPwsh "Receive-MemQueue -Name 'later' -Wait -Timeout 120 -Store '$Store'"
            Wait-ChildWaiting $child { (Get-Waiters) -ge 1 }
            Start-Sleep -Milliseconds 300
            $child.Process.HasExited | Should -BeFalse
            Send-MemQueue -Name 'later' -Value 'sent' -Store $Store
            $child | Wait-ChildPwsh | Should -Be 'sent'
        }

        It 'returns up to -Count items once there is one' {
            $waiter = Start-ThreadJob -ArgumentList $Store { param ($store) Receive-MemQueue -Name 'batch' -Wait -Count 3 -Timeout 60 -Store $store }
            Wait-Until { (Get-Waiters) -ge 1 } | Should -BeTrue
            Send-MemQueue -Name 'batch' -Value 1 -Store $Store
            @($waiter | Receive-EndedJob).Count | Should -BeIn 1, 2, 3
        }

        It 'returns nothing and no error when -Timeout passes' {
            $items = Receive-MemQueue -Name 'silent' -Wait -Timeout 0.2 -Store $Store -ErrorVariable problems
            $items | Should -BeNullOrEmpty
            $problems | Should -BeNullOrEmpty
        }

        It 'ends at once when stopped (Ctrl+C), and takes no item' {
            $shell = [powershell]::Create().AddScript("Import-Module Memalloc; Receive-MemQueue -Name 'stopped' -Wait -Store '$Store'")
            $pending = $shell.BeginInvoke()
            Wait-Until { (Get-Waiters) -ge 1 } | Should -BeTrue
            $stopping = $shell.BeginStop($null, $null)
            $stopping.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(30)) | Should -BeTrue
            $shell.InvocationStateInfo.State | Should -Be 'Stopped'
            $shell.Dispose()
            Send-MemQueue -Name 'stopped' -Value 'kept' -Store $Store
            Receive-MemQueue -Name 'stopped' -Store $Store | Should -Be 'kept'
        }

        It 'refuses -Timeout without -Wait' {
            { Receive-MemQueue -Name 'x' -Timeout 1 -Store $Store } | Should -Throw -ErrorId "InvalidTimeout,$CommandId"
        }

        It 'refuses a negative timeout' {
            { Receive-MemQueue -Name 'x' -Wait -Timeout -1 -Store $Store } | Should -Throw -ErrorId "InvalidTimeout,$CommandId"
        }
    }

    Context 'many receivers' {
        It 'gives each item to exactly one receiver across runspaces' {
            1..300 | Send-MemQueue -Name 'shared' -Store $Store
            $got = 1..6 | ForEach-Object -ThrottleLimit 6 -Parallel {
                while ($null -ne ($item = Receive-MemQueue -Name 'shared' -Store $using:Store)) { $item }
            }
            ($got | Sort-Object) | Should -Be (1..300)
        }
    }
}
