#Requires -Version 7.4
# A per-process limit on System V attachments, as macOS has (kern.sysv.shmseg, 8 by default), emulated on Linux by the
# test-only MEMALLOC_TEST_SHMSEG, with System V arenas forced (MEMALLOC_ARENA=sysv: up to 3 attachments per store, the
# hardest case). Until issue 12 the fifth store of a session failed there, and a refused shmat was read as "not our
# store", so an open could create a second store of the same name.

BeforeDiscovery {
    # 16 stores of three System V segments each: not in a namespace with a stock Mac's 32 segments (the emulated-Mac
    # pass, where stores take POSIX arenas and tests/EmulatedMac.Tests.ps1 covers the limit).
    $shmmni = if (Test-Path -LiteralPath '/proc/sys/kernel/shmmni') { [decimal] (Get-Content -LiteralPath '/proc/sys/kernel/shmmni') } else { 0 }
    $script:TooFewSegments = $shmmni -lt 64
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Stores = [System.Collections.Generic.List[string]]::new()

    # Runs a child pwsh with the attachment limit and System V arenas, restoring this process's environment after.
    function Invoke-LimitedChild([int] $Limit, [string] $Command) {
        $saved = $env:MEMALLOC_TEST_SHMSEG, $env:MEMALLOC_ARENA
        try {
            $env:MEMALLOC_TEST_SHMSEG = "$Limit"
            $env:MEMALLOC_ARENA = 'sysv'
            Invoke-ChildPwsh $Command
        }
        finally {
            $env:MEMALLOC_TEST_SHMSEG, $env:MEMALLOC_ARENA = $saved
        }
    }
}

AfterAll {
    Remove-TestStore $script:Stores
}

Describe 'A per-process attachment limit (kern.sysv.shmseg)' -Skip:$TooFewSegments {
    It 'lets one session use 16 stores within 8 attachments, idle stores letting go of theirs, round after round' {
        $prefix = New-TestStoreName 'shmseg'
        1..16 | ForEach-Object { $script:Stores.Add("$prefix-$_") }
        $output = Invoke-LimitedChild 8 @"
`$most = 0
foreach (`$round in 1..3) {
    foreach (`$i in 1..16) {
        Set-MemStack -Name 'n' -Value "`$round-`$i" -Store "$prefix-`$i"
        # A value that needs more room: the store grows, a growth's new arena counting as a third attachment.
        if (`$round -eq 2) { Set-MemStack -Name 'big' -Value ('x' * 2MB) -Store "$prefix-`$i" }
        `$most = [Math]::Max(`$most, @(Get-Content -LiteralPath /proc/self/maps | Where-Object { `$_ -match ' /SYSV' }).Count)
    }
    foreach (`$i in 1..16) { if ((Get-MemStack -Name 'n' -Store "$prefix-`$i") -ne "`$round-`$i") { throw "store `$i, round `$round" } }
}
"stores `$(@(Get-MemStore -Name '$prefix-*').Count)"
"most `$most"
"@
        $output | Should -Contain 'stores 16'
        [int] (($output -match '^most ')[0] -replace '\D') | Should -BeLessOrEqual 8
        foreach ($i in 1..16) {
            Get-MemStack -Name 'n' -Store "$prefix-$i" | Should -Be "3-$i"
            (Get-MemStack -Name 'big' -Store "$prefix-$i").Length | Should -Be 2MB
            (Get-MemStore -Name "$prefix-$i").ArenaBacking | Should -Be 'SystemV'
        }
    }

    It 'reports a store it cannot attach as StoreFull naming the limit, and never makes a second store of that name' {
        $store = New-TestStoreName 'shmseg-full'
        $script:Stores.Add($store)
        $saved = $env:MEMALLOC_ARENA
        try { $env:MEMALLOC_ARENA = 'sysv'; Set-MemStack -Name 'kept' -Value 'here' -Store $store }
        finally { $env:MEMALLOC_ARENA = $saved }
        # This user's anchors only: outside a private IPC namespace (a non-root run) other users' stores come and go.
        $uid = [long] (id -u)
        $anchors = @((Get-SysVSegment).Values | Where-Object { $_.Size -eq 4096 -and $_.Uid -eq $uid }).Count

        # One attachment allowed: the anchor attaches, its arena cannot.
        $output = Invoke-LimitedChild 1 @"
try { Get-MemStack -Name 'kept' -Store '$store' -ErrorAction Stop; 'read' }
catch { `$_.FullyQualifiedErrorId; `$_.CategoryInfo.Category; `$_.Exception.Message }
try { Set-MemStack -Name 'other' -Value 1 -Store '$store' -ErrorAction Stop; 'written' }
catch { `$_.FullyQualifiedErrorId }
"@
        $output[0] | Should -BeLike 'StoreFull*'
        $output[1] | Should -Be 'LimitsExceeded'
        $output[2] | Should -Match 'MEMALLOC_TEST_SHMSEG'
        $output[3] | Should -BeLike 'StoreFull*'
        @((Get-SysVSegment).Values | Where-Object { $_.Size -eq 4096 -and $_.Uid -eq $uid }).Count | Should -Be $anchors -Because 'no second anchor was created'
        Get-MemStack -Name 'kept' -Store $store | Should -Be 'here'
        Test-MemStack -Name 'other' -Store $store | Should -BeFalse
    }
}
