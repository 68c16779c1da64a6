#Requires -Version 7.4
# Hostile and broken segments, at the cmdlet level: segments of another user at our keys, our segments seen from
# another user, corrupted headers, indexes and records, segments removed underneath a running process.
# Another user is played by `setpriv --reuid=nobody`, segments are made and corrupted with tests/faults/shm.py (libc
# through ctypes). Every probe of a broken store runs in a child pwsh: a crash there is a failure, not a dead runner.

BeforeDiscovery {
    $script:CanSetpriv = [bool] (Get-Command setpriv -ErrorAction SilentlyContinue) -and
        ((& id -u) -eq '0') -and (Test-Path -LiteralPath '/usr/bin/python3')
    $script:CorruptionCases = . (Join-Path $PSScriptRoot 'faults' 'CorruptionCases.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'faults' 'FaultHelpers.ps1')
    $script:Shm = Join-Path $PSScriptRoot 'faults' 'shm.py'
    $script:Probe = Join-Path $PSScriptRoot 'faults' 'Probe.ps1'
    $script:Stores = [System.Collections.Generic.List[string]]::new()
    $script:Temp = New-FaultTempDirectory
    $script:CanSetpriv = [bool] (Get-Command setpriv -ErrorAction SilentlyContinue) -and
        ((& id -u) -eq '0') -and (Test-Path -LiteralPath '/usr/bin/python3')
    # (shmid, key) of every segment a test made or broke: removed at the end only if the id still has that key (ids
    # are reused by the kernel, and the machine is shared: never remove a segment by a stale id).
    $script:OwnSegments = [System.Collections.Generic.List[object]]::new()
    # Errors a broken store may give: corrupt, foreign, removed, missing. Never NotSpecified (an unhandled
    # NullReference, IndexOutOfRange or AccessViolation would surface as that).
    $script:ClearCategories = @('InvalidData', 'PermissionDenied', 'SecurityError', 'ResourceUnavailable', 'ObjectNotFound')

    function Invoke-Shm {
        param ([switch] $AsNobody, [Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
        $out = if ($AsNobody) {
            & setpriv --reuid=nobody --regid=nogroup --clear-groups $script:FaultPython $script:Shm @Arguments
        }
        else { & $script:FaultPython $script:Shm @Arguments }
        if ($LASTEXITCODE -ne 0) { throw "shm.py $Arguments failed: $out" }
        $out | ConvertFrom-Json
    }

    # Removes a store's segments and arena objects by hand, as 'ipcrm' (and 'rm /dev/shm/...') or systemd-logind's
    # RemoveIPC would: nothing is marked, the store's instances are not told.
    function Remove-StoreByHand($Statistics) {
        foreach ($id in $Statistics.SegmentIds) { & ipcrm -m $id }
        foreach ($name in $Statistics.ArenaObjects) { Remove-Item -LiteralPath "/dev/shm$name" }
    }

    function New-SecurityStore([string] $Tag) {
        $name = New-TestStoreName "sec$Tag"
        $script:Stores.Add($name)
        $name
    }

    # Runs Probe.ps1 in a child pwsh with a time bound: a hang fails the test instead of the run.
    function Invoke-Probe {
        param ([string] $Store, [string[]] $Names = @(), [switch] $SkipWrite, [int] $TimeoutSeconds = 90,
            [string] $ReadyPath, [string] $GoPath)
        $prefix = Join-Path $script:Temp "probe-$([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $arguments = @('-ModulePath', $script:FaultModulePath, '-Store', $Store)
        if ($Names) { $arguments += @('-Names') + @($Names -join ',') }
        if ($SkipWrite) { $arguments += '-SkipWrite' }
        if ($ReadyPath) { $arguments += @('-ReadyPath', $ReadyPath, '-GoPath', $GoPath) }
        $child = Start-FaultChild -Script $script:Probe -ArgumentList $arguments -LogPrefix $prefix
        [pscustomobject]@{ Child = $child; Timeout = $TimeoutSeconds }
    }

    function Wait-Probe($Probe) {
        $exited = $Probe.Child.Process.WaitForExit($Probe.Timeout * 1000)
        if (-not $exited) {
            Stop-FaultChild $Probe.Child
            throw "the probe did not finish within $($Probe.Timeout) s (a hang): $(Get-FaultChildLog $Probe.Child)"
        }
        $Probe.Child.Process.WaitForExit()
        $code = $Probe.Child.Process.ExitCode
        $out = Get-Content -LiteralPath "$($Probe.Child.LogPrefix).out" -Raw
        if ($out -and $out.IndexOf('[') -ge 0) { $out = $out.Substring($out.IndexOf('[')) }
        if ($code -ne 0 -or -not $out) {
            throw "the probe process died (exit code $code, 134 = abort, 139 = segfault): $(Get-FaultChildLog $Probe.Child)"
        }
        $results = @($out | ConvertFrom-Json)
        $byOp = @{}
        foreach ($r in $results) { $byOp[$r.Op] = $r }
        [pscustomobject]@{ Results = $results; ByOp = $byOp }
    }

    function Add-OwnSegment([int] $ShmId) {
        $stat = Invoke-Shm stat $ShmId
        if ($stat.ok) { $script:OwnSegments.Add([pscustomobject]@{ ShmId = $ShmId; Key = $stat.key }) }
    }

    function Get-SegmentHash([int] $ShmId) {
        $stat = Invoke-Shm stat $ShmId
        (Invoke-Shm read $ShmId 0 $stat.size).hex.GetHashCode()
    }
}

AfterAll {
    foreach ($s in $script:Stores) { Remove-TestStore $s }
    foreach ($seg in $script:OwnSegments) {
        $stat = & $script:FaultPython $script:Shm stat $seg.ShmId | ConvertFrom-Json
        if ($stat.ok -and $stat.key -eq $seg.Key -and $seg.Key -ne 0) { $null = & $script:FaultPython $script:Shm remove $seg.ShmId }
    }
    Remove-Item -LiteralPath $script:Temp -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Our segments' -Tag 'Security' {
    BeforeAll {
        $script:OwnStore = New-SecurityStore 'own'
        Set-MemStack -Name 'secret' -Value 'only-mine' -Store $script:OwnStore
        $script:OwnStats = Get-MemStore -Name $script:OwnStore
    }

    It 'are created with mode 0600, owned and created by us' {
        $script:OwnStats.Permissions | Should -Be 'rw-------'
        $script:OwnStats.SegmentIds.Count + $script:OwnStats.ArenaObjects.Count | Should -BeGreaterOrEqual 2
        foreach ($name in $script:OwnStats.ArenaObjects) {
            # POSIX arenas (the emulated-Mac pass): the object in /dev/shm, mode 0600, ours.
            & stat -c '%a %u' "/dev/shm$name" | Should -Be "600 $(& id -u)" -Because "object $name must be 0600 and ours"
        }
        foreach ($id in $script:OwnStats.SegmentIds) {
            $stat = Invoke-Shm stat $id
            $stat.mode | Should -Be 384 -Because "segment $id must be 0600"
            $stat.uid | Should -Be ([int] (& id -u))
            $stat.cuid | Should -Be ([int] (& id -u))
        }
    }

    It 'cannot be attached by another user' -Skip:(-not $CanSetpriv) {
        foreach ($id in $script:OwnStats.SegmentIds) {
            $result = Invoke-Shm -AsNobody attach $id
            $result.ok | Should -BeFalse -Because "user nobody attached segment $id"
            $result.errno | Should -Be 13 -Because 'EACCES'
        }
    }
}

Describe 'A segment planted at the store key' -Tag 'Security' {
    It 'is never attached or written when another user planted <Scenario>' -Skip:(-not $CanSetpriv) -TestCases @(
        @{ Scenario = 'a perfect copy of our anchor, mode 0666'; Mode = '666'; Copy = $true }
        @{ Scenario = 'a perfect copy of our anchor, mode 0600'; Mode = '600'; Copy = $true }
        @{ Scenario = 'garbage, mode 0666'; Mode = '666'; Copy = $false }
    ) {
        param ($Scenario, $Mode, $Copy)
        $store = New-SecurityStore 'plant'
        # Learn the store's anchor key and bytes, then remove the store: the key is free for the squatter.
        $core = [Memalloc.Core.MemStore]::Open($store)
        $stats = $core.GetStatistics()
        $anchorId = @($stats.SegmentIds)[0]
        $anchorSize = (Invoke-Shm stat $anchorId).size
        $hexFile = Join-Path $script:Temp "$store.hex"
        if ($Copy) { (Invoke-Shm read $anchorId 0 $anchorSize).hex | Set-Content -LiteralPath $hexFile }
        else { [System.Convert]::ToHexString([System.Security.Cryptography.RandomNumberGenerator]::GetBytes($anchorSize)) | Set-Content -LiteralPath $hexFile }
        $core.Destroy()
        & chmod 0644 $hexFile
        & chmod 0755 $script:Temp

        $planted = Invoke-Shm -AsNobody create $stats.Key $anchorSize $Mode $hexFile
        $planted.ok | Should -BeTrue -Because "nobody must be able to create a segment at key $($stats.Key)"
        Add-OwnSegment $planted.shmid
        # Hash first: reading attaches, and shm_lpid must be compared from after our own last attach.
        $hashBefore = Get-SegmentHash $planted.shmid
        $before = Invoke-Shm stat $planted.shmid

        # The store must look elsewhere (another probe) or refuse clearly; it must never use the planted segment.
        $writeError = $null
        try { Set-MemStack -Name 'v' -Value 'real' -Store $store -ErrorAction Stop } catch { $writeError = $_ }
        if ($writeError) {
            $writeError.CategoryInfo.Category | Should -BeIn @('PermissionDenied', 'SecurityError')
            $writeError.Exception.Message | Should -Not -BeNullOrEmpty
        }
        else {
            $real = Get-MemStore -Name $store
            $real.Key | Should -Not -Be $stats.Key
            $real.SegmentIds | Should -Not -Contain $planted.shmid
            # A fresh process finds the real store, not the planted one.
            $probe = Wait-Probe (Invoke-Probe -Store $store -Names 'v' -SkipWrite)
            $probe.ByOp['get v'].Ok | Should -BeTrue
            $probe.ByOp['get v'].Value | Should -Be 'real'
        }
        $after = Invoke-Shm stat $planted.shmid
        $after.lpid | Should -Be $before.lpid -Because 'no process of ours attached it (shm_lpid)'
        $after.atime | Should -Be $before.atime -Because 'no process of ours attached it (shm_atime)'
        Get-SegmentHash $planted.shmid | Should -Be $hashBefore -Because 'nothing was written into it'
    }

    It 'of our own user but with a wrong magic is never written' {
        $store = New-SecurityStore 'magic'
        $core = [Memalloc.Core.MemStore]::Open($store)
        $stats = $core.GetStatistics()
        $anchorSize = (Invoke-Shm stat @($stats.SegmentIds)[0]).size
        $core.Destroy()
        $hexFile = Join-Path $script:Temp "$store.hex"
        [System.Convert]::ToHexString([System.Security.Cryptography.RandomNumberGenerator]::GetBytes($anchorSize)) | Set-Content -LiteralPath $hexFile
        $planted = Invoke-Shm create $stats.Key $anchorSize '600' $hexFile
        $planted.ok | Should -BeTrue
        Add-OwnSegment $planted.shmid
        $hashBefore = Get-SegmentHash $planted.shmid

        $writeError = $null
        try { Set-MemStack -Name 'v' -Value 'real' -Store $store -ErrorAction Stop } catch { $writeError = $_ }
        if ($writeError) {
            $writeError.CategoryInfo.Category | Should -BeIn $script:ClearCategories
        }
        else {
            Get-MemStack -Name 'v' -Store $store | Should -Be 'real'
            (Get-MemStore -Name $store).SegmentIds | Should -Not -Contain $planted.shmid
        }
        Get-SegmentHash $planted.shmid | Should -Be $hashBefore
    }

    It 'at the next arena key by another user is skipped when the store grows' -Skip:(-not $CanSetpriv) {
        $derivation = [Memalloc.Core.MemStore].Assembly.GetType('Memalloc.Core.KeyDerivation')
        $arenaKey = if ($derivation) { $derivation.GetMethod('ArenaKey', [System.Reflection.BindingFlags]'NonPublic,Static') }
        if (-not $arenaKey) { Set-ItResult -Skipped -Because 'the core does not expose KeyDerivation.ArenaKey'; return }
        $store = New-SecurityStore 'arena'
        Set-MemStack -Name 'small' -Value 'kept' -Store $store
        $stats = Get-MemStore -Name $store
        $next = $arenaKey.Invoke($null, @([int] $stats.Key, [uint32] ($stats.Generation + 1)))
        $arenaId = @($stats.SegmentIds)[-1]
        $hexFile = Join-Path $script:Temp "$store-arena.hex"
        (Invoke-Shm read $arenaId 0 4096).hex | Set-Content -LiteralPath $hexFile
        & chmod 0644 $hexFile
        & chmod 0755 $script:Temp
        $planted = Invoke-Shm -AsNobody create $next (2 * $stats.Capacity) '600' $hexFile
        $planted.ok | Should -BeTrue
        Add-OwnSegment $planted.shmid
        # Hash first: reading attaches, and shm_lpid must be compared from after our own last attach.
        $hashBefore = Get-SegmentHash $planted.shmid
        $before = Invoke-Shm stat $planted.shmid

        # Grow: more than the initial arena holds.
        $big = 'x' * 300000
        $failed = $null
        try { 1..6 | ForEach-Object { Set-MemStack -Name "big$_" -Value "$_$big" -Store $store -ErrorAction Stop } }
        catch { $failed = $_ }
        if ($failed) { $failed.CategoryInfo.Category | Should -BeIn @('PermissionDenied', 'SecurityError') }
        else {
            $grown = Get-MemStore -Name $store
            $grown.Generation | Should -BeGreaterThan $stats.Generation
            $grown.SegmentIds | Should -Not -Contain $planted.shmid
            Get-MemStack -Name 'small' -Store $store | Should -Be 'kept'
            (Get-MemStack -Name 'big6' -Store $store).Length | Should -Be 300001
            (Invoke-FaultVerify $store).IsValid | Should -BeTrue
        }
        $after = Invoke-Shm stat $planted.shmid
        $after.lpid | Should -Be $before.lpid
        Get-SegmentHash $planted.shmid | Should -Be $hashBefore
    }
}

Describe 'A corrupted store' -Tag 'Security' {
    BeforeAll {
        # Corrupt one store per case, then probe them all from one child pwsh (a pwsh start is the slow part). The
        # child writes a result per store as it goes: a store without a result after the child died or hung is the
        # one that crashed or hung it, and the rest are probed again by a new child.
        $script:Corrupted = @{}
        $target = 'corrupt-target-name'
        $marker = 'MARKER-' + ('q' * 40)
        foreach ($case in (. (Join-Path $PSScriptRoot 'faults' 'CorruptionCases.ps1'))) {
            $state = @{ Store = New-SecurityStore 'corrupt'; Target = $target; Marker = $marker; SetupError = $null; Result = $null }
            $script:Corrupted[$case.Scenario] = $state
            try {
                $store = $state.Store
                Set-MemStack -Name 'other-a' -Value 'value-a' -Store $store
                Set-MemStack -Name $target -Value $marker -Store $store
                Set-MemStack -Name 'other-b' -Value @{ n = 2 } -Store $store
                $stats = Get-MemStore -Name $store
                $anchorId = @($stats.SegmentIds)[0]
                # The current arena: a System V segment, or a POSIX object's name (the emulated-Mac pass).
                $arenaId = if ($stats.ArenaObjects) { $stats.ArenaObjects[0] } else { @($stats.SegmentIds)[-1] }
                foreach ($id in $stats.SegmentIds) { Add-OwnSegment $id }
                $nameHex = -join ([System.Text.Encoding]::UTF8.GetBytes($target) | ForEach-Object { '{0:x2}' -f $_ })
                $nameAt = @((Invoke-Shm search $arenaId $nameHex).offsets)
                if ($nameAt.Count -ne 1) { throw "the target name is stored $($nameAt.Count) times in the arena" }
                $record = $nameAt[0] - 64   # the name follows the 64-byte record header
                $Offset = $case.Offset; $Hex = $case.Hex; $U64 = $case.U64
                $ok = switch ($case.Segment) {
                    'anchor' {
                        if ($U64 -eq 'missing') {
                            $ref = (Invoke-Shm readu64 $anchorId $Offset).value
                            (Invoke-Shm writeu64 $anchorId $Offset (([uint64] $ref -band 0xFFFFFFFF00000000) -bor 0x7FFFFFF0)).ok
                        }
                        elseif ($U64 -eq 'foreign') {
                            $key = Get-Random -Minimum 0x10000000 -Maximum 0x7FFFFFFF
                            $foreign = if ($script:CanSetpriv) { Invoke-Shm -AsNobody create $key $stats.Capacity 600 } else { Invoke-Shm create $key $stats.Capacity 666 }
                            Add-OwnSegment $foreign.shmid
                            $state.ForeignId = $foreign.shmid
                            $state.ForeignHash = Get-SegmentHash $foreign.shmid
                            $ref = (Invoke-Shm readu64 $anchorId $Offset).value
                            (Invoke-Shm writeu64 $anchorId $Offset (([uint64] $ref -band 0xFFFFFFFF00000000) -bor [uint64] $foreign.shmid)).ok
                        }
                        else { (Invoke-Shm write $anchorId $Offset $Hex).ok }
                    }
                    'arena' {
                        if ($U64) { (Invoke-Shm writeu64 $arenaId $Offset $U64).ok } else { (Invoke-Shm write $arenaId $Offset $Hex).ok }
                    }
                    'record' {
                        if ($Offset -eq 64) { $state.Target = 'Zorrupt-target-name' }
                        if ($U64) { (Invoke-Shm writeu64 $arenaId ($record + $Offset) $U64).ok } else { (Invoke-Shm write $arenaId ($record + $Offset) $Hex).ok }
                    }
                    'value' {
                        $markerHex = -join ([System.Text.Encoding]::UTF8.GetBytes($marker) | ForEach-Object { '{0:x2}' -f $_ })
                        $at = @((Invoke-Shm search $arenaId $markerHex).offsets)
                        if ($at.Count -ne 1) { throw "the marker is stored $($at.Count) times" }
                        (Invoke-Shm write $arenaId ($at[0] + 10) '72').ok   # one 'q' becomes 'r'
                    }
                    'slot' {
                        $heap = (Invoke-Shm readu64 $arenaId 40).value
                        $index = (Invoke-Shm read $arenaId 128 ($heap - 128)).hex
                        $slotAt = $null
                        for ($i = 0; $i -lt $index.Length / 16; $i++) {
                            $word = [System.BitConverter]::ToUInt64([System.Convert]::FromHexString($index.Substring($i * 16, 16)), 0)
                            if (($word -band 0xFFFFFFFFFFFF) -eq [uint64] ($record -shr 3)) { $slotAt = 128 + 8 * $i; break }
                        }
                        if ($null -eq $slotAt) { throw 'no index slot names the target record' }
                        $newOffset = switch ($case.Change) {
                            'beyond' { [uint64] 0xFFFFFFFFFFFF }
                            'middle' { [uint64] (($record + 24) -shr 3) }
                            'index' { [uint64] (136 -shr 3) }
                        }
                        (Invoke-Shm writeu64 $arenaId $slotAt (($word -band 0xFFFF000000000000) -bor $newOffset)).ok
                    }
                }
                if (-not $ok) { throw "shm.py could not corrupt the $($case.Segment)" }
            }
            catch { $state.SetupError = "$_" }
        }

        $resultDir = Join-Path $script:Temp 'corrupt-results'
        $null = New-Item -ItemType Directory -Path $resultDir -Force
        $names = @($target, 'Zorrupt-target-name', 'other-a') -join ','
        $pending = @($script:Corrupted.Values | Where-Object { -not $_.SetupError })
        while ($pending.Count -gt 0) {
            $prefix = Join-Path $script:Temp "corrupt-probe-$($pending.Count)"
            $child = Start-FaultChild -Script $script:Probe -LogPrefix $prefix -ArgumentList @(
                '-ModulePath', $script:FaultModulePath, '-Names', $names, '-ResultDir', $resultDir,
                '-Stores', (($pending | ForEach-Object Store) -join ','))
            $finished = $child.Process.WaitForExit((60 + 15 * $pending.Count) * 1000)
            if (-not $finished) { Stop-FaultChild $child } else { $child.Process.WaitForExit() }
            foreach ($state in $pending) {
                $path = Join-Path $resultDir "$($state.Store).json"
                if (Test-Path -LiteralPath $path) { $state.Result = @(Get-Content -LiteralPath $path -Raw | ConvertFrom-Json) }
            }
            $left = @($pending | Where-Object { $null -eq $_.Result })
            if ($left.Count -gt 0) {
                # The first store without a result is where the child died or hung.
                $how = if ($finished) { "the probe process died (exit code $($child.Process.ExitCode), 134 = abort, 139 = segfault)" } else { 'the probe process hung' }
                $left[0].SetupError = "${how}: $(Get-FaultChildLog $child)"
                $left = @($left | Select-Object -Skip 1)
            }
            $pending = $left
        }
    }

    # Removed as soon as they are judged: a stock Mac's budget (kern.sysv.shmmni 32 segments, the emulated-Mac pass)
    # cannot hold these stores and the next Describe's at once.
    AfterAll { Remove-TestStore @($script:Corrupted.Values | ForEach-Object Store) }

    It 'gives a clear error and never a crash, a hang or a wrong value: <Scenario>' -TestCases $CorruptionCases {
        param ($Scenario, $Segment, $Level)
        $state = $script:Corrupted[$Scenario]
        $state.SetupError | Should -BeNullOrEmpty
        $byOp = @{}
        foreach ($r in $state.Result) { $byOp[$r.Op] = $r }
        foreach ($r in $state.Result) {
            if (-not $r.Ok) {
                $r.Category | Should -BeIn $script:ClearCategories -Because "$($r.Op) failed with $($r.ErrorId): $($r.Message)"
                $r.Message | Should -Not -BeNullOrEmpty
            }
        }
        # Never a wrong value: a read either returns what was written or fails.
        $get = $byOp["get $($state.Target)"]
        if ($get.Ok -and $get.Value) { $get.Value | Should -Be $state.Marker }
        $other = $byOp['get other-a']
        if ($other.Ok -and $other.Value) { $other.Value | Should -Be 'value-a' }
        if ($Level -eq 'record') {
            # The damage is confined to one record: it must be reported, by the read or by Verify.
            ($get.Ok -and $get.Value -eq $state.Marker) | Should -BeFalse -Because 'a damaged record was returned as if whole'
            $byOp['verify'].Value | Should -BeLike 'invalid:*' -Because 'Verify must report the damage'
            $other.Ok | Should -BeTrue -Because 'the other records are intact and stay readable'
            $other.Value | Should -Be 'value-a'
        }
        if ($Level -eq 'arena') {
            # Verify reports the damage, or opening the store refuses it as corrupt.
            $verify = $byOp['verify']
            ($verify.Value -like 'invalid:*' -or $verify.Category -eq 'InvalidData') | Should -BeTrue -Because "Verify said $($verify.Value) $($verify.ErrorId) $($verify.Message)"
        }
        if ($byOp['set'].Ok) { $byOp['get-after-set'].Value | Should -Be 'written-after-fault' }
        if ($state.ForeignId) {
            Get-SegmentHash $state.ForeignId | Should -Be $state.ForeignHash -Because 'a foreign segment named by a corrupt anchor is never written'
        }
    }
}

Describe 'A store removed underneath' -Tag 'Security' {
    It 'gives a clear error or a fresh store, never a hang or a lost write' {
        $store = New-SecurityStore 'ipcrm'
        $core = [Memalloc.Core.MemStore]::Open($store)
        $null = $core.Set('x', [System.Text.Encoding]::UTF8.GetBytes('raw'))
        $statistics = $core.GetStatistics()
        $core.Dispose()
        $ready = Join-Path $script:Temp "$store.ready"
        $go = Join-Path $script:Temp "$store.go"
        $running = Invoke-Probe -Store $store -Names 'x' -ReadyPath $ready -GoPath $go
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not (Test-Path -LiteralPath $ready) -and [DateTime]::UtcNow -lt $deadline -and -not $running.Child.Process.HasExited) {
            Start-Sleep -Milliseconds 50
        }
        Test-Path -LiteralPath $ready | Should -BeTrue -Because "the probe opens the store first: $(Get-FaultChildLog $running.Child)"
        Remove-StoreByHand $statistics
        Set-Content -LiteralPath $go -Value 'go'
        $probe = Wait-Probe $running

        foreach ($r in $probe.Results) {
            if (-not $r.Ok) {
                $r.Category | Should -BeIn $script:ClearCategories -Because "$($r.Op): $($r.ErrorId) $($r.Message)"
                if ($r.Category -eq 'ResourceUnavailable') { $r.Message | Should -Match 'RemoveIPC' }
            }
        }
        $set = $probe.ByOp['set']
        if ($set.Ok) {
            # The write was acknowledged: another process must see it (not a write into a dead segment).
            $fresh = Wait-Probe (Invoke-Probe -Store $store -Names 'probe-write' -SkipWrite)
            $fresh.ByOp['get probe-write'].Value | Should -Be 'written-after-fault' -Because 'an acknowledged write must not vanish with a removed segment'
        }
        else {
            $set.Category | Should -Be 'ResourceUnavailable'
            $set.Message | Should -Match 'RemoveIPC'
        }
    }

    It 'never acknowledges a write that went into the removed segments (write <Delay> ms after ipcrm)' -TestCases @(
        @{ Delay = 0 }
        @{ Delay = 300 }
    ) {
        param ($Delay)
        $store = New-SecurityStore 'rmwrite'
        $prefix = Join-Path $script:Temp "rmwrite-$Delay"
        $child = Start-FaultChild -Script (Join-Path $script:FaultDir 'RemovedWrite.ps1') -LogPrefix $prefix -ArgumentList @(
            '-ModulePath', $script:FaultModulePath, '-Store', $store, '-DelayMilliseconds', "$Delay")
        $child.Process.WaitForExit(90000) | Should -BeTrue -Because 'no hang'
        $child.Process.WaitForExit()
        $child.Process.ExitCode | Should -Be 0 -Because (Get-FaultChildLog $child)
        $result = Get-Content -LiteralPath "$prefix.out" -Raw | ConvertFrom-Json
        if ($result.Ok) {
            # Acknowledged: a fresh process must read it (else it went into a segment nobody can find any more).
            $fresh = Wait-Probe (Invoke-Probe -Store $store -Names 'x' -SkipWrite)
            $fresh.ByOp['get x'].Value | Should -Be 'after' -Because 'Set-MemStack reported success for a write into segments that ipcrm had removed: the write is lost'
        }
        else {
            $result.Category | Should -Be 'ResourceUnavailable'
            $result.Message | Should -Match 'RemoveIPC'
        }
    }

    # Issue 9, defect 5: store-design.md tells operators they may ipcrm a stray spare arena. The next compaction
    # must make a fresh arena, not publish the removed spare as the store's (which lost every value).
    It 'keeps every value when only the spare arena is removed with ipcrm' {
        $store = New-SecurityStore 'spare'
        $value = 'v' * 20000
        # Anchor, arena and spare: System V segments, or the anchor and two POSIX arena objects (the emulated-Mac pass).
        function Get-StoreArena($Info) { @(@($Info.SegmentIds) + @($Info.ArenaObjects)) }
        for ($i = 0; (Get-StoreArena (Get-MemStore -Name $store -ErrorAction Ignore)).Count -lt 3; $i++) {
            $i | Should -BeLessThan 2000 -Because 'overwrites must compact the store and keep a spare'
            Set-MemStack -Name "k$($i % 10)" -Value "$i$value" -Store $store
        }
        $statistics = Get-MemStore -Name $store
        $spare = (Get-StoreArena $statistics)[2]
        if ($spare -is [string]) { Remove-Item -LiteralPath "/dev/shm$spare" } else { & ipcrm -m $spare; $LASTEXITCODE | Should -Be 0 }
        for ($j = 0; $j -lt 300; $j++) {
            Set-MemStack -Name "k$($j % 10)" -Value "after$j$value" -Store $store -ErrorAction Stop
        }
        (Get-MemStore -Name $store).Generation | Should -BeGreaterThan ($statistics.Generation + 1) -Because 'the overwrites compacted the store again'
        foreach ($k in 0..9) {
            Get-MemStack -Name "k$k" -Store $store | Should -BeExactly "after$(290 + $k)$value"
        }
        Invoke-ChildPwsh "(Get-MemStack -Name 'k9' -Store '$store').Substring(0, 8)" | Should -Be 'after299'
    }

    It 'is a MemStoreNotFound for a fresh process, and the next write creates it again' {
        $store = New-SecurityStore 'gone'
        $core = [Memalloc.Core.MemStore]::Open($store)
        $statistics = $core.GetStatistics()
        $core.Dispose()
        Remove-StoreByHand $statistics
        $probe = Wait-Probe (Invoke-Probe -Store $store -Names 'x')
        $probe.ByOp['store'].Ok | Should -BeFalse
        $probe.ByOp['store'].ErrorId | Should -Match '^MemStoreNotFound,'
        $probe.ByOp['set'].Ok | Should -BeTrue
        $probe.ByOp['get-after-set'].Value | Should -Be 'written-after-fault'
    }
}
