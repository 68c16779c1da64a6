# Issue 10, defect 4: a slow Update-MemStack was starved by fast updaters of the same stack (a 200 ms script block
# committed only after 58 re-runs). Updaters that keep losing now take turns through a per-stack turn, across
# processes and runspaces; plain readers and writers never wait for it. Each test bounds its waits generously and
# asserts on counts, never on elapsed time.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStoreName
    $CommandId = 'Memalloc.Commands.UpdateMemStackCommand'

    # A child pwsh that increments NAME in a tight loop until the stack 'stop-NAME' exists (at most 120 s), and
    # prints how many increments it made. It sets 'started-NAME' once it is running hot.
    function Start-FastUpdater([string] $Name) {
        Start-ChildPwsh @"
`$count = 0
`$deadline = [DateTime]::UtcNow.AddSeconds(120)
while (-not (Test-MemStack -Name 'stop-$Name' -Store '$Store') -and [DateTime]::UtcNow -lt `$deadline) {
    Update-MemStack -Name '$Name' -Increment 1 -Store '$Store'
    if (++`$count -eq 20) { Set-MemStack -Name 'started-$Name' -Value 1 -Store '$Store' }
}
`$count
"@
    }

    # Runs a 200 ms update of NAME and returns how often its script block ran; more than 20 runs is starvation.
    function Invoke-SlowUpdate([string] $Name) {
        $script:runs = 0
        Update-MemStack -Name $Name -Store $Store -ScriptBlock {
            if (++$script:runs -gt 20) { throw "starved: the script block lost the race $($script:runs - 1) times" }
            Start-Sleep -Milliseconds 200
            $_ + 1000000
        }
        $script:runs
    }
}

AfterAll {
    Remove-TestStore $Store
}

Describe 'Issue 10 defect 4: a slow update is not starved by fast ones' {
    It 'a 200 ms update commits within a few runs against another pwsh process updating in a tight loop' {
        Set-MemStack -Name 'hot' -Value 0 -Store $Store
        $child = Start-FastUpdater 'hot'
        try {
            Wait-Until { Test-MemStack -Name 'started-hot' -Store $Store } | Should -BeTrue
            $runs = Invoke-SlowUpdate 'hot'
        }
        finally {
            Set-MemStack -Name 'stop-hot' -Value 1 -Store $Store
        }
        $count = [long] (Wait-ChildPwsh $child | Select-Object -Last 1)
        $runs | Should -BeLessOrEqual 6 -Because 'after a few lost races the slow updater gets its turn'
        Get-MemStack -Name 'hot' -Store $Store | Should -Be ($count + 1000000) -Because 'no update is lost'
    }

    It 'a 200 ms update commits within a few runs against a thread job updating in a tight loop' {
        Set-MemStack -Name 'hot-thread' -Value 0 -Store $Store
        $job = Start-ThreadJob -ArgumentList $Store -ScriptBlock {
            param ($store)
            Import-Module Memalloc
            $count = 0
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            while (-not (Test-MemStack -Name 'stop-hot-thread' -Store $store) -and [DateTime]::UtcNow -lt $deadline) {
                Update-MemStack -Name 'hot-thread' -Increment 1 -Store $store
                if (++$count -eq 20) { Set-MemStack -Name 'started-hot-thread' -Value 1 -Store $store }
            }
            $count
        }
        try {
            Wait-Until { Test-MemStack -Name 'started-hot-thread' -Store $Store } | Should -BeTrue
            $runs = Invoke-SlowUpdate 'hot-thread'
        }
        finally {
            Set-MemStack -Name 'stop-hot-thread' -Value 1 -Store $Store
        }
        $count = $job | Wait-Job | Receive-Job
        $job | Remove-Job
        $runs | Should -BeLessOrEqual 6
        Get-MemStack -Name 'hot-thread' -Store $Store | Should -Be ($count + 1000000)
    }

    It 'two slow updaters and a fast one in three processes all commit, none lost' {
        Set-MemStack -Name 'shared' -Value 0 -Store $Store
        $fast = Start-FastUpdater 'shared'
        try {
            Wait-Until { Test-MemStack -Name 'started-shared' -Store $Store } | Should -BeTrue
            $slow = 1..2 | ForEach-Object {
                Start-ChildPwsh @"
`$global:runs = 0
Update-MemStack -Name 'shared' -Store '$Store' -ScriptBlock {
    if (++`$global:runs -gt 30) { throw 'starved' }
    Start-Sleep -Milliseconds 200
    `$_ + 1000000
}
`$global:runs
"@
            }
            $slowRuns = $slow | Wait-ChildPwsh
        }
        finally {
            Set-MemStack -Name 'stop-shared' -Value 1 -Store $Store
        }
        $count = [long] (Wait-ChildPwsh $fast | Select-Object -Last 1)
        $slowRuns | ForEach-Object { [int] $_ | Should -BeLessOrEqual 10 }
        Get-MemStack -Name 'shared' -Store $Store | Should -Be ($count + 2000000)
    }

    It '-Timeout ends an update that keeps losing to plain writers with UpdateConflict, saying how many races it lost' {
        Set-MemStack -Name 'plain' -Value 0 -Store $Store
        $writer = Start-ChildPwsh @"
`$count = 0
`$deadline = [DateTime]::UtcNow.AddSeconds(120)
while (-not (Test-MemStack -Name 'stop-plain' -Store '$Store') -and [DateTime]::UtcNow -lt `$deadline) {
    Set-MemStack -Name 'plain' -Value (++`$count) -Store '$Store'
    if (`$count -eq 20) { Set-MemStack -Name 'started-plain' -Value 1 -Store '$Store' }
}
`$count
"@
        try {
            Wait-Until { Test-MemStack -Name 'started-plain' -Store $Store } | Should -BeTrue
            # Each run waits until the plain writer has written again, so that every run loses its race however slow the
            # machine is (a fixed 200 ms sleep once outlasted a writer stalled by other work, and the update won).
            Update-MemStack -Name 'plain' -Store $Store -Timeout 2 -ScriptBlock {
                $seen = $_
                $giveUp = [DateTime]::UtcNow.AddSeconds(30)
                while ((Get-MemStack -Name 'plain' -Store $Store) -eq $seen -and [DateTime]::UtcNow -lt $giveUp) { Start-Sleep -Milliseconds 5 }
                -1
            } -ErrorVariable err -ErrorAction SilentlyContinue
        }
        finally {
            Set-MemStack -Name 'stop-plain' -Value 1 -Store $Store
        }
        $count = [long] (Wait-ChildPwsh $writer | Select-Object -Last 1)
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeExactly "UpdateConflict,$CommandId"
        "$($err[0].CategoryInfo.Category)" | Should -Be 'ResourceBusy'
        $lost = [regex]::Match($err[0].Exception.Message, 'lost the race (\d+) times')
        $lost.Success | Should -BeTrue -Because $err[0].Exception.Message
        [int] $lost.Groups[1].Value | Should -BeGreaterThan 0
        $err[0].Exception.Message | Should -Match '-Timeout'
        Get-MemStack -Name 'plain' -Store $Store | Should -Be $count -Because 'the plain writer was never held back and the update wrote nothing'
    }

    It 'takes -Timeout as a TimeSpan or a number of seconds' {
        (Get-Command Update-MemStack).Parameters['Timeout'].ParameterType | Should -Be ([Nullable[TimeSpan]])
        Update-MemStack -Name 'timeout-forms' -Increment 1 -Timeout 5 -Store $Store -PassThru | Should -Be 1
        Update-MemStack -Name 'timeout-forms' -Increment 1 -Timeout '00:00:05' -Store $Store -PassThru | Should -Be 2
        { Update-MemStack -Name 'timeout-forms' -Increment 1 -Timeout -1 -Store $Store } |
            Should -Throw -ErrorId "InvalidTimeout,$CommandId"
    }

    It 'a turn holder killed in the middle of its script block does not hold the other updaters back' {
        Set-MemStack -Name 'victim' -Value 0 -Store $Store
        $fast = Start-FastUpdater 'victim'
        $slow = $null
        try {
            # Only against an updater already running hot does the slow one lose its first races: on a loaded machine the
            # slow child could otherwise start first, win at once and never hold the turn.
            Wait-Until { Test-MemStack -Name 'started-victim' -Store $Store } | Should -BeTrue
            # The slow updater loses its first three races (the documented point at which an updater takes its turn), so
            # its fourth run holds the turn: there it reports and sleeps until it is killed.
            $slow = Start-ChildPwsh @"
`$global:runs = 0
Update-MemStack -Name 'victim' -Store '$Store' -ScriptBlock {
    ++`$global:runs
    Start-Sleep -Milliseconds 200
    if (`$global:runs -ge 4) { Set-MemStack -Name 'holding' -Value `$PID -Store '$Store'; Start-Sleep -Seconds 120 }
    `$_ + 1000000
}
"@
            Wait-Until { Test-MemStack -Name 'holding' -Store $Store } | Should -BeTrue
            # While the slow updater holds the turn, the fast one waits for it.
            $held = Get-MemStack -Name 'victim' -Store $Store
            Start-Sleep -Milliseconds 1000
            Get-MemStack -Name 'victim' -Store $Store | Should -Be $held -Because 'updaters wait while another holds the turn'
            $slow.Process.Kill()
            $slow.Process.WaitForExit()
            Wait-Until { (Get-MemStack -Name 'victim' -Store $Store) -gt $held } | Should -BeTrue -Because 'a dead holder''s turn is taken over'
            Update-MemStack -Name 'victim' -Increment 1 -Timeout 60 -Store $Store
        }
        finally {
            Set-MemStack -Name 'stop-victim' -Value 1 -Store $Store
            if ($slow -and -not $slow.Process.HasExited) { $slow.Process.Kill() }
        }
        $count = [long] (Wait-ChildPwsh $fast | Select-Object -Last 1)
        Get-MemStack -Name 'victim' -Store $Store | Should -Be ($count + 1)
    }
}
