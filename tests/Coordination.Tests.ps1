# Runs once per backend (tools/PesterTest.ps1).
# Queues under load from many processes, and processes killed in the middle of sending and receiving: every item
# committed is received exactly once, each sender's items in the order it sent them, and the store verifies clean.
param ([string] $Backend = 'SharedMemory')

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # Lines end in ' .' so that a line cut short by SIGKILL is never read as a shorter number.
    function Start-Sender([string] $Store, [int] $Sender, [int] $Items) {
        Start-ChildPwsh "1..$Items | ForEach-Object { Send-MemQueue -Name 'work' -Value ('$Sender/' + `$_) -Store '$Store'; [Console]::Out.WriteLine('SENT $Sender/' + `$_ + ' .') }"
    }

    function Start-Receiver([string] $Store) {
        Start-ChildPwsh "while (`$null -ne (`$item = Receive-MemQueue -Name 'work' -Wait -Timeout 5 -Store '$Store')) { [Console]::Out.WriteLine('GOT ' + `$item + ' .') }"
    }

    # The complete protocol lines of a finished or killed child.
    function Read-Lines($Child, [string] $Verb) {
        $null = $Child.Process.WaitForExit(120000)
        foreach ($line in $Child.Output.GetAwaiter().GetResult() -split '\r?\n') {
            if ($line -match "^$Verb (\d+)/(\d+) \.$") { [pscustomobject]@{ Sender = [int] $Matches[1]; Item = [int] $Matches[2] } }
        }
    }

    # Each receiver must see each sender's items in increasing order.
    function Assert-SenderOrder($Received) {
        $last = @{}
        foreach ($r in $Received) {
            if ($last.ContainsKey($r.Sender)) { $r.Item | Should -BeGreaterThan $last[$r.Sender] }
            $last[$r.Sender] = $r.Item
        }
    }
}

Describe "Queues across processes ($Backend)" {
    It 'gives 10,000 items from 4 senders to 8 receivers exactly once, in each sender''s order' {
        $store = New-TestStore -Backend $Backend
        try {
            $receivers = 1..8 | ForEach-Object { Start-Receiver $store }
            $senders = 1..4 | ForEach-Object { Start-Sender $store $_ 2500 }
            $sent = foreach ($s in $senders) { Read-Lines $s 'SENT' }
            $sent.Count | Should -Be 10000
            $byReceiver = foreach ($r in $receivers) { , @(Read-Lines $r 'GOT') }
            foreach ($received in $byReceiver) { Assert-SenderOrder $received }
            $all = $byReceiver | ForEach-Object { $_ } | ForEach-Object { "$($_.Sender)/$($_.Item)" }
            $all.Count | Should -Be 10000
            ($all | Sort-Object -Unique).Count | Should -Be 10000
            (Get-MemStackInfo -Name 'work' -Store $store).Count | Should -Be 0
            Test-MemStore -Name $store | Should -BeTrue
        }
        finally {
            Remove-TestStore $store
        }
    }

    It 'loses and duplicates nothing committed when senders and receivers are killed with SIGKILL mid-way' {
        $store = New-TestStore -Backend $Backend
        try {
            $receivers = 1..6 | ForEach-Object { Start-Receiver $store }
            $senders = 1..4 | ForEach-Object { Start-Sender $store $_ 2500 }
            Wait-Until { (Get-MemStackInfo -Name 'work' -Store $store -ErrorAction Ignore).Version -gt 0 } | Should -BeTrue
            Start-Sleep -Milliseconds (Get-Random -Minimum 1500 -Maximum 3000)
            $killedSenders = $senders[0, 1]
            $killedReceivers = $receivers[0, 1, 2]
            foreach ($child in $killedSenders + $killedReceivers) { $child.Process.Kill() }

            $sent = foreach ($s in $senders) { Read-Lines $s 'SENT' }
            $byReceiver = foreach ($r in $receivers) { , @(Read-Lines $r 'GOT') }
            $drained = while ($null -ne ($item = Receive-MemQueue -Name 'work' -Store $store)) {
                $sender, $number = $item -split '/'
                [pscustomobject]@{ Sender = [int] $sender; Item = [int] $number }
            }

            foreach ($received in $byReceiver) { Assert-SenderOrder $received }
            Assert-SenderOrder $drained
            $got = @($byReceiver | ForEach-Object { $_ } | ForEach-Object { "$($_.Sender)/$($_.Item)" }) + @($drained | ForEach-Object { "$($_.Sender)/$($_.Item)" })
            $sentKeys = @($sent | ForEach-Object { "$($_.Sender)/$($_.Item)" })

            # Nothing twice.
            ($got | Group-Object | Where-Object Count -GT 1) | Should -BeNullOrEmpty
            # Every acknowledged send arrived, except the item each killed receiver had taken but not yet reported.
            $lost = @($sentKeys | Where-Object { $_ -notin $got })
            $lost.Count | Should -BeLessOrEqual $killedReceivers.Count
            # Items nobody acknowledged sending: only the one each killed sender had in flight.
            $unacknowledged = @($got | Where-Object { $_ -notin $sentKeys })
            $unacknowledged.Count | Should -BeLessOrEqual $killedSenders.Count
            Test-MemStore -Name $store | Should -BeTrue
        }
        finally {
            Remove-TestStore $store
        }
    }
}
