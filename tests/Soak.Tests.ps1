#Requires -Version 7.4
# Soak: a pwsh process runs mixed load (tests/faults/Mixed.ps1: reads, writes, removes, updates, listings, values with
# a 500 ms time to live) on a bounded set of names; this process samples its working set and the store's usage. Both
# must stay flat: memory that keeps growing is a leak (views never detached, buffers kept), usage that keeps growing
# is space never reclaimed (garbage never compacted, expired values never dropped).
# 20 s in the default Test run; MEMALLOC_SOAK_SECONDS (300 in build.ps1 -Task Stress) in the Stress run.

BeforeAll {
    . (Join-Path $PSScriptRoot 'faults' 'FaultHelpers.ps1')
    $script:Stores = [System.Collections.Generic.List[string]]::new()

    function Invoke-Soak {
        param ([double] $Seconds, [double] $SampleSeconds)
        $store = New-TestStoreName 'soak'
        $script:Stores.Add($store)
        $dir = New-FaultTempDirectory
        $sharedNames = 64
        $maxSize = 4096
        $ready = Join-Path $dir 'ready'
        $child = Start-FaultChild -Script (Join-Path $script:FaultDir 'Mixed.ps1') -LogPrefix (Join-Path $dir 'soak') -ArgumentList @(
            '-ModulePath', $script:FaultModulePath, '-Store', $store, '-Id', '1', '-Runspaces', '2', '-Seconds', "$Seconds",
            '-SharedNames', "$sharedNames", '-MaxSize', "$maxSize", '-WithTimeToLive', '-ResultPath', (Join-Path $dir 'soak.json'),
            '-ReadyPath', $ready)
        $samples = [System.Collections.Generic.List[object]]::new()
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        while (-not $child.Process.HasExited -and $watch.Elapsed.TotalSeconds -lt $Seconds + 120) {
            Start-Sleep -Seconds $SampleSeconds
            if ($child.Process.HasExited -or -not (Test-Path -LiteralPath $ready)) { continue }
            $child.Process.Refresh()
            $stats = Get-MemStore -Name $store -ErrorAction SilentlyContinue
            if ($null -eq $stats -or $child.Process.HasExited) { continue }
            $samples.Add([pscustomobject]@{
                    Seconds = [Math]::Round($watch.Elapsed.TotalSeconds, 1); WorkingSet = $child.Process.WorkingSet64
                    BytesUsed = $stats.BytesUsed; Entries = $stats.Entries; Capacity = $stats.Capacity })
        }
        if (-not $child.Process.HasExited) { Stop-FaultChild $child; throw "the soak process hung: $(Get-FaultChildLog $child)" }
        $resultPath = Join-Path $dir 'soak.json'
        if (-not (Test-Path -LiteralPath $resultPath)) { throw "the soak process wrote no result: $(Get-FaultChildLog $child)" }
        $result = Get-Content -LiteralPath $resultPath -Raw | ConvertFrom-Json
        Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue
        # The first third is warm-up (JIT, first growth); compare the middle third with the last third.
        $third = [Math]::Max(1, [Math]::Floor($samples.Count / 3))
        $middle = @($samples | Select-Object -Skip $third -First $third)
        $last = @($samples | Select-Object -Last $third)
        $median = { param ($values) $sorted = @($values | Sort-Object); $sorted[[Math]::Floor($sorted.Count / 2)] }
        [pscustomobject]@{
            Store = $store; Result = $result; Samples = $samples; SharedNames = $sharedNames; MaxSize = $maxSize
            MiddleWorkingSet = & $median ($middle.WorkingSet); LastWorkingSet = & $median ($last.WorkingSet)
            MiddleMaxBytesUsed = ($middle.BytesUsed | Measure-Object -Maximum).Maximum
            LastMaxBytesUsed = ($last.BytesUsed | Measure-Object -Maximum).Maximum
            MiddleMaxCapacity = ($middle.Capacity | Measure-Object -Maximum).Maximum
            LastMaxCapacity = ($last.Capacity | Measure-Object -Maximum).Maximum
            MaxEntries = ($samples.Entries | Measure-Object -Maximum).Maximum
        }
    }

    function Assert-Soak($Soak, [double] $MemoryAllowance, [string] $Campaign) {
        $r = $Soak.Result
        $operations = $r.Reads + $r.Writes + $r.Removes + $r.Increments + $r.ScriptUpdates + $r.Tests + $r.Listings
        $figures = [ordered]@{
            Seconds = $Soak.Samples[-1].Seconds; Samples = $Soak.Samples.Count; Operations = $operations
            Errors = $r.Errors; Bad = $r.Bad
            WorkingSetMiddleMiB = [Math]::Round($Soak.MiddleWorkingSet / 1MB, 1); WorkingSetLastMiB = [Math]::Round($Soak.LastWorkingSet / 1MB, 1)
            BytesUsedMiddleMax = $Soak.MiddleMaxBytesUsed; BytesUsedLastMax = $Soak.LastMaxBytesUsed
            CapacityMiddleMax = $Soak.MiddleMaxCapacity; CapacityLastMax = $Soak.LastMaxCapacity; EntriesMax = $Soak.MaxEntries
        }
        Write-Host ($figures | ConvertTo-Json -Compress)
        Write-FaultFigure $Campaign $figures
        $r.Messages | Should -BeNullOrEmpty
        $r.Errors | Should -Be 0
        $r.Bad | Should -Be 0
        $Soak.Samples.Count | Should -BeGreaterOrEqual 6
        # Bounded names: shared-*, ttl-shared-*, counter, sbcounter.
        $Soak.MaxEntries | Should -BeLessOrEqual (2 * $Soak.SharedNames + 2)
        $Soak.LastWorkingSet | Should -BeLessOrEqual ($Soak.MiddleWorkingSet * (1 + $MemoryAllowance) + 32MB) -Because 'the working set must stay flat'
        $Soak.LastMaxBytesUsed | Should -BeLessOrEqual ($Soak.MiddleMaxBytesUsed * 1.5 + 256KB) -Because 'store usage must stay flat'
        $Soak.LastMaxCapacity | Should -BeLessOrEqual ($Soak.MiddleMaxCapacity * 2) -Because 'the arena must not keep growing'
        (Invoke-FaultVerify $Soak.Store).IsValid | Should -BeTrue
    }
}

AfterAll {
    Remove-TestStore $script:Stores
}

Describe 'Soak' {
    It 'keeps memory and store usage flat under 20 s of mixed load' -Tag 'Faults' {
        $soak = Invoke-Soak -Seconds 20 -SampleSeconds 1
        Assert-Soak $soak 0.5 'soak-short'
    }

    It 'keeps memory and store usage flat under minutes of mixed load' -Tag 'Stress' {
        $seconds = if ($env:MEMALLOC_SOAK_SECONDS) { [double] $env:MEMALLOC_SOAK_SECONDS } else { 300 }
        $soak = Invoke-Soak -Seconds $seconds -SampleSeconds ([Math]::Min(5, [Math]::Max(1, $seconds / 40)))
        Assert-Soak $soak 0.25 'soak'
    }
}
