#Requires -Version 7.4
# Crash and concurrency campaigns with pwsh processes and the cmdlets (the core's own crash campaigns, with crash
# points inside the write protocol, are the xunit Stress tests of tests/Memalloc.Core.Tests). Short versions run in
# the default Test run; the long ones are tagged Stress and run by `build.ps1 -Task Stress` (tools/Invoke-Stress.ps1),
# which sets MEMALLOC_STRESS_KILLS (default 200 kills in all) and MEMALLOC_FAULTS_REPORT (where figures go as JSON).

BeforeDiscovery {
    $kills = if ($env:MEMALLOC_STRESS_KILLS) { [int] $env:MEMALLOC_STRESS_KILLS } else { 200 }
    # Short: a few kills of each kind, under a minute in all. Stress: the requested total, split across the kinds.
    $script:ShortCampaigns = @(
        @{ Mode = 'Set'; Kills = 3; What = 'writers of small values' }
        @{ Mode = 'Update'; Kills = 3; What = 'writers of counters (Update-MemStack)' }
        @{ Mode = 'Grow'; Kills = 2; What = 'writers of large values, in the middle of growth and compaction' }
        @{ Mode = 'Reader'; Kills = 2; What = 'readers, while a writer keeps writing' }
    )
    $script:StressCampaigns = @(
        @{ Mode = 'Set'; Kills = [Math]::Ceiling($kills * 0.35); What = 'writers of small values' }
        @{ Mode = 'Update'; Kills = [Math]::Ceiling($kills * 0.25); What = 'writers of counters (Update-MemStack)' }
        @{ Mode = 'Grow'; Kills = [Math]::Ceiling($kills * 0.2); What = 'writers of large values, in the middle of growth and compaction' }
        @{ Mode = 'Reader'; Kills = [Math]::Ceiling($kills * 0.2); What = 'readers, while a writer keeps writing' }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'faults' 'FaultHelpers.ps1')
    $script:Stores = [System.Collections.Generic.List[string]]::new()
    function New-CampaignStore([string] $Tag) {
        $name = New-TestStoreName $Tag
        $script:Stores.Add($name)
        $name
    }

    # Many processes, each with several runspaces, plus runspaces of this process, plus a reader process: mixed
    # operations on shared names; then the counters must be exact and every value whole.
    function Invoke-ConcurrencyCampaign {
        param ([string] $Store, [int] $Processes, [int] $Runspaces, [double] $Seconds)
        $dir = New-FaultTempDirectory
        $mixed = Join-Path $script:FaultDir 'Mixed.ps1'
        $children = for ($p = 1; $p -le $Processes; $p++) {
            Start-FaultChild -Script $mixed -LogPrefix (Join-Path $dir "mixed$p") -ArgumentList @(
                '-ModulePath', $script:FaultModulePath, '-Store', $Store, '-Id', "$p", '-Runspaces', "$Runspaces",
                '-Seconds', "$Seconds", '-ResultPath', (Join-Path $dir "mixed$p.json"))
        }
        $stop = Join-Path $dir 'stop'
        $readerReport = Join-Path $dir 'reader.report'
        $reader = Start-FaultChild -Script (Join-Path $script:FaultDir 'Reader.ps1') -LogPrefix (Join-Path $dir 'reader') -ArgumentList @(
            '-ModulePath', $script:FaultModulePath, '-Store', $Store, '-ReportPath', $readerReport, '-StopPath', $stop)
        # This process joins in with its own runspaces (the module is already loaded here).
        & $mixed -ModulePath $script:FaultModulePath -Store $Store -Id 0 -Runspaces $Runspaces -Seconds $Seconds `
            -ResultPath (Join-Path $dir 'mixed0.json')
        foreach ($c in $children) {
            if (-not $c.Process.WaitForExit(([int] $Seconds + 120) * 1000)) { Stop-FaultChild $c; throw "a mixed-load process hung: $(Get-FaultChildLog $c)" }
        }
        Set-Content -LiteralPath $stop -Value 'stop'
        if (-not $reader.Process.WaitForExit(60000)) { Stop-FaultChild $reader }
        $results = foreach ($p in 0..$Processes) {
            $path = Join-Path $dir "mixed$p.json"
            if (-not (Test-Path -LiteralPath $path)) {
                $log = if ($p -gt 0) { Get-FaultChildLog $children[$p - 1] } else { '' }
                throw "mixed-load process $p wrote no result: $log"
            }
            Get-Content -LiteralPath $path -Raw | ConvertFrom-Json
        }
        $readerLines = Read-FaultLine $readerReport
        $sum = { param ($key) ($results | Measure-Object -Property $key -Sum).Sum }
        $figures = [ordered]@{
            Processes = $Processes + 1; RunspacesPerProcess = $Runspaces; Seconds = $Seconds
            Increments = & $sum 'Increments'; ScriptUpdates = & $sum 'ScriptUpdates'; Reads = & $sum 'Reads'
            Writes = & $sum 'Writes'; Removes = & $sum 'Removes'; Tests = & $sum 'Tests'; Listings = & $sum 'Listings'
            Bad = & $sum 'Bad'; Errors = & $sum 'Errors'
            ReaderReads = [long] (@($readerLines | Where-Object { $_ -like 'reads *' } | ForEach-Object { $_.Split(' ')[1] }) | Select-Object -Last 1)
            ReaderBad = @($readerLines | Where-Object { $_ -like 'bad *' }).Count
            Counter = Get-MemStack -Name 'counter' -Store $Store -ErrorAction SilentlyContinue
            ScriptCounter = Get-MemStack -Name 'sbcounter' -Store $Store -ErrorAction SilentlyContinue
        }
        $messages = @($results | ForEach-Object { $_.Messages }) + @($readerLines | Where-Object { $_ -like 'bad *' })
        $figures.OperationsChecked = $figures.Increments + $figures.ScriptUpdates + $figures.Reads + $figures.Writes +
            $figures.Removes + $figures.Tests + $figures.Listings + $figures.ReaderReads
        $shared = @(Get-MemStackInfo -Name 'shared-*' -Store $Store)
        $badShared = @($shared | Where-Object { $null -eq (ConvertFrom-FaultValue (Get-MemStack -Name $_.Name -Store $Store)) })
        $verify = Invoke-FaultVerify $Store
        Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue
        [pscustomobject]@{ Figures = $figures; Messages = $messages; BadShared = $badShared; Verify = $verify }
    }
}

AfterAll {
    Remove-TestStore $script:Stores
}

Describe 'Kill campaign (short)' -Tag 'Faults' {
    It 'keeps every acknowledged write and the store consistent when <What> are killed (<Kills> kills)' -TestCases $ShortCampaigns {
        param ($Mode, $Kills, $What)
        $store = New-CampaignStore "kill$($Mode.ToLowerInvariant())"
        $result = Invoke-FaultKillCampaign -Store $store -Mode $Mode -Kills $Kills
        Write-Host ($result.Figures | ConvertTo-Json -Compress)
        Write-FaultFigure "kill-$($Mode.ToLowerInvariant())-short" $result.Figures
        $result.Failures | Should -BeNullOrEmpty
        $result.Figures.Kills | Should -Be $Kills
        $result.Figures.BytesLost | Should -Be 0
    }
}

Describe 'Kill campaign' -Tag 'Stress' {
    It 'keeps every acknowledged write and the store consistent when <What> are killed (<Kills> kills)' -TestCases $StressCampaigns {
        param ($Mode, $Kills, $What)
        $store = New-CampaignStore "kill$($Mode.ToLowerInvariant())"
        $result = Invoke-FaultKillCampaign -Store $store -Mode $Mode -Kills $Kills -Writers 3
        Write-Host ($result.Figures | ConvertTo-Json -Compress)
        Write-FaultFigure "kill-$($Mode.ToLowerInvariant())" $result.Figures
        $result.Failures | Should -BeNullOrEmpty
        $result.Figures.Kills | Should -Be $Kills
        $result.Figures.BytesLost | Should -Be 0
    }
}

Describe 'Concurrency' {
    BeforeAll {
        function Assert-Concurrency($Result) {
            Write-Host ($Result.Figures | ConvertTo-Json -Compress)
            $Result.Messages | Should -BeNullOrEmpty
            $Result.Figures.Errors | Should -Be 0
            $Result.Figures.Bad | Should -Be 0
            $Result.Figures.ReaderBad | Should -Be 0
            $Result.Figures.Increments | Should -BeGreaterThan 0
            $Result.Figures.Counter | Should -Be $Result.Figures.Increments -Because 'no increment may be lost or applied twice'
            $Result.Figures.ScriptCounter | Should -Be $Result.Figures.ScriptUpdates -Because 'no script-block update may be lost or applied twice'
            $Result.BadShared | Should -BeNullOrEmpty
            $Result.Verify.IsValid | Should -BeTrue -Because ($Result.Verify.Problems -join '; ')
        }
    }

    It 'keeps counters exact and values whole under mixed load (3 processes x 2 runspaces, 10 s)' -Tag 'Faults' {
        $store = New-CampaignStore 'mixed'
        $result = Invoke-ConcurrencyCampaign -Store $store -Processes 2 -Runspaces 2 -Seconds 10
        Write-FaultFigure 'concurrency-short' $result.Figures
        Assert-Concurrency $result
    }

    It 'keeps counters exact and values whole under long mixed load (5 processes x 3 runspaces)' -Tag 'Stress' {
        $store = New-CampaignStore 'mixed'
        $seconds = if ($env:MEMALLOC_CONCURRENCY_SECONDS) { [double] $env:MEMALLOC_CONCURRENCY_SECONDS } else { 90 }
        $result = Invoke-ConcurrencyCampaign -Store $store -Processes 4 -Runspaces 3 -Seconds $seconds
        Write-FaultFigure 'concurrency' $result.Figures
        Assert-Concurrency $result
    }
}
