# The benchmark harness's own parts (tools/bench, tests/Benchmarks): the targets are judged right, the report is
# written from a results file alone, a new suite shows up without a change to the generator, the chart is a
# readable SVG, and the huge-page setting is always put back. No benchmark runs here: the machine is shared.

BeforeAll {
    $script:Root = Split-Path -Parent $PSScriptRoot
    Import-Module (Join-Path $Root 'tools' 'bench' 'BenchReport.psm1') -Force
    Import-Module (Join-Path $Root 'tools' 'bench' 'BenchChart.psm1') -Force
    Import-Module (Join-Path $Root 'tools' 'bench' 'BenchMachine.psm1') -Force
    Import-Module (Join-Path $Root 'tests' 'Benchmarks' 'BenchSuite.psm1') -Force

    function New-Time([string] $Suite, [string] $Case, [string] $Subject, [double] $Ns, [hashtable] $Key = @{}) {
        # Through JSON, as the report reads them: numbers come back as long or double.
        New-BenchMeasurement -Suite $Suite -Case $Case -Subject $Subject -Value $Ns -Unit ns -Clock cpu -Key $Key |
            ConvertTo-Json -Depth 5 | ConvertFrom-Json
    }
}

Describe 'Get-BenchTargetResult' {
    BeforeAll {
        $measurements = @(
            New-Time Core Get Memalloc 90 @{ Size = 16 }
            New-Time Peers Get APCu 100 @{ Size = 16 }
            New-Time Core Get Memalloc 300 @{ Size = 1024 }
            New-Time Peers Get APCu 100 @{ Size = 1024 }
        )
        $of16 = @{ Suite = 'Core'; Case = 'Get'; Subject = 'Memalloc'; Size = 16 }
        $over16 = @{ Suite = 'Peers'; Case = 'Get'; Subject = 'APCu'; Size = 16 }
    }

    It 'judges <Name>' -TestCases @(
        @{ Name = 'a ratio under AtMost as met'; Target = @{ AtMost = 1.0 }; Size = 16; Status = 'met'; Ratio = 0.9 }
        @{ Name = 'a ratio over AtMost as not met'; Target = @{ AtMost = 1.0 }; Size = 1024; Status = 'not met'; Ratio = 3.0 }
        @{ Name = 'a ratio under AtLeast as not met'; Target = @{ AtLeast = 1.0 }; Size = 16; Status = 'not met'; Ratio = 0.9 }
        @{ Name = 'a ratio over AtLeast as met'; Target = @{ AtLeast = 2.0 }; Size = 1024; Status = 'met'; Ratio = 3.0 }
    ) {
        $target = $Target + @{ Target = 't'; Source = 's'
            Of = @{ Suite = 'Core'; Case = 'Get'; Subject = 'Memalloc'; Size = $Size }
            Over = @{ Suite = 'Peers'; Case = 'Get'; Subject = 'APCu'; Size = $Size } }
        $result = Get-BenchTargetResult -Targets @($target) -Measurements $measurements
        $result.Status | Should -Be $Status
        [math]::Abs($result.Ratio - $Ratio) | Should -BeLessThan 1e-9
    }

    It 'says not measured when a measurement is missing, and keeps judging the others' {
        $targets = @(
            @{ Target = 'missing'; Source = 's'; AtMost = 1.0; Of = $of16; Over = @{ Suite = 'Peers'; Case = 'Get'; Subject = 'sysvshm'; Size = 16 } }
            @{ Target = 'there'; Source = 's'; AtMost = 1.0; Of = $of16; Over = $over16 }
        )
        $results = @(Get-BenchTargetResult -Targets $targets -Measurements $measurements)
        $results[0].Status | Should -Be 'not measured'
        $results[0].Ratio | Should -BeNullOrEmpty
        $results[1].Status | Should -Be 'met'
    }

    It 'requires an exact ratio when AtLeast equals AtMost, and prints a near miss in full' {
        $counts = @(
            New-BenchMeasurement -Suite Contention -Case 'final count' -Subject Memalloc -Value 999999 -Unit count
            New-BenchMeasurement -Suite Contention -Case 'increments made' -Subject Memalloc -Value 1000000 -Unit count
        )
        $target = @{ Target = 'exact'; Source = 's'; AtLeast = 1.0; AtMost = 1.0
            Of = @{ Suite = 'Contention'; Case = 'final count' }; Over = @{ Suite = 'Contention'; Case = 'increments made' } }
        $result = Get-BenchTargetResult -Targets @($target) -Measurements $counts
        $result.Status | Should -Be 'not met'
        $result.Required | Should -Be '= 1.00'
        Format-BenchRatio $result.Ratio -Exact | Should -Be '0.999999'
    }

    It 'judges a target without Over as a limit in the unit of its measurement (a latency, say)' {
        $latency = New-BenchMeasurement -Suite Coordination -Case 'wake latency' -Subject Memalloc -Value 150000 -Unit ns -Clock wall -Key @{ Percentile = 50 }
        $target = @{ Target = 'wake'; Source = 'issue 13'; AtMost = 200000; Of = @{ Suite = 'Coordination'; Percentile = 50 } }
        $result = Get-BenchTargetResult -Targets @($target) -Measurements @($latency)
        $result.Status | Should -Be 'met'
        $result.Required | Should -Be '≤ 200.0 µs'
        Format-BenchTargetRatio $result | Should -Be '150.0 µs'
    }

    It 'refuses a target that names more than one measurement' {
        $target = @{ Target = 'vague'; Source = 's'; AtMost = 1.0; Of = @{ Suite = 'Core' }; Over = $over16 }
        { Get-BenchTargetResult -Targets @($target) -Measurements $measurements } | Should -Throw '*must name one*'
    }

    It 'refuses a target with no limit' {
        $target = @{ Target = 'no limit'; Source = 's'; Of = $of16; Over = $over16 }
        { Get-BenchTargetResult -Targets @($target) -Measurements $measurements } | Should -Throw '*neither AtMost nor AtLeast*'
    }
}

Describe 'tests/Benchmarks/Benchmarks.psd1' {
    BeforeAll {
        $definition = Import-PowerShellDataFile -LiteralPath (Join-Path $Root 'tests' 'Benchmarks' 'Benchmarks.psd1')
    }

    It 'has a script for every suite (tests/Benchmarks/Name.Bench.ps1)' {
        foreach ($suite in $definition.Suites) {
            Join-Path $Root 'tests' 'Benchmarks' "$suite.Bench.ps1" | Should -Exist
        }
    }

    It 'names a listed suite and has a limit in every target' {
        foreach ($target in $definition.Targets) {
            $target.Of.Suite | Should -BeIn $definition.Suites -Because $target.Target
            # A target without Over limits Of's own value (an absolute target: Benchmarks.psd1, CONTRIBUTING.md).
            if ($target.ContainsKey('Over')) { $target.Over.Suite | Should -BeIn $definition.Suites -Because $target.Target }
            ($target.ContainsKey('AtMost') -or $target.ContainsKey('AtLeast')) | Should -BeTrue -Because $target.Target
        }
    }
}

Describe 'Write-BenchmarkReport.ps1' {
    BeforeAll {
        # A results file as Measure-Benchmarks.ps1 writes it, with one suite the generator has no section for.
        $repo = Join-Path $TestDrive 'repo'
        $null = New-Item -ItemType Directory -Path (Join-Path $repo 'docs'), (Join-Path $repo 'tests' 'Benchmarks') -Force
        Copy-Item -LiteralPath (Join-Path $Root 'tests' 'Benchmarks' 'Benchmarks.psd1') -Destination (Join-Path $repo 'tests' 'Benchmarks')
        $measurements = @(
            foreach ($size in 16, 1024, 65536, 1048576) {
                New-Time Core Get Memalloc (50 + $size / 10) @{ Size = $size }
                New-Time Core Set Memalloc (90 + $size / 8) @{ Size = $size }
                New-Time Peers Get APCu (70 + $size / 50) @{ Size = $size }
                New-Time Peers Set APCu (120 + $size / 4) @{ Size = $size }
                New-Time Core Copy Buffer.MemoryCopy (1 + $size / 50) @{ Size = $size }
            }
            New-BenchMeasurement -Suite Coordination -Case 'wake latency' -Subject Memalloc -Value 150000 -Unit ns -Clock wall -Key @{ Percentile = 50 }
            # Another case of the same suite with another key (as the Redis suite's Set+Get and its 4-process increments).
            New-BenchMeasurement -Suite Coordination -Case 'lock, contended' -Subject Memalloc -Value 2000 -Unit ns -Clock wall -Key @{ Workers = 4 }
        )
        $results = [ordered]@{
            Schema       = 1
            Run          = [ordered]@{ Started = '2026-01-01 00:00'; Finished = '2026-01-01 00:10'; Minutes = 10.0; Quick = $true; Clock = 'cpu'
                Suites = @('Core', 'Peers', 'Coordination'); LoadBefore = 0.1; LoadAfter = 0.2; CapacityBefore = 2.0; CapacityAfter = 1.9 }
            Machine      = [ordered]@{ CPU = 'test'; Cores = 2 }
            Versions     = [ordered]@{ PowerShell = '7.6' }
            Facts        = [ordered]@{ 'Core: minutes' = 5.0; 'Peers: minutes' = 1.0; 'Coordination: minutes' = 4.0 }
            Notes        = @('Suite Readers wrote no results: its cases are not measured.')
            Measurements = $measurements
        }
        $resultsPath = Join-Path $TestDrive 'results.json'
        $results | ConvertTo-Json -Depth 10 | Set-Content -LiteralPath $resultsPath
        $reportPath = Join-Path $repo 'docs' 'benchmarks.md'
        $null = & (Join-Path $Root 'tools' 'bench' 'Write-BenchmarkReport.ps1') -RepoRoot $repo -ResultsPath $resultsPath -ReportPath $reportPath 6>$null
        $report = Get-Content -LiteralPath $reportPath -Raw
    }

    It 'marks a quick run as not for judging' {
        $report | Should -Match 'Quick run.*Not for judging'
    }

    It 'judges the targets from the results alone: <Line>' -TestCases @(
        @{ Line = '| Core Get of 16 B: Memalloc time / APCu apcu_fetch time | 0.73 | ≤ 1.00 | met | issue 15 |' }
        @{ Line = '| Core Get of 1 MiB: Memalloc time / APCu apcu_fetch time | 4.99 | ≤ 1.00 | **not met** | issue 15 |' }
        @{ Line = '| Reads per second: two reader processes / one | n/a | ≥ 1.70 | not measured | design §5 |' }
    ) {
        $report.Split("`n") | Should -Contain $Line
    }

    It 'links the hand-written notes and bakes in no explanation of its own' {
        $report | Should -Match '\(benchmark-notes\.md\)'
        $report | Should -Not -Match 'Profiled|Proposed'
    }

    It 'shows a suite it has no section for in a plain table (the extension point)' {
        $report | Should -Match '## Coordination'
        $report.Split("`n") | Should -Contain '| wake latency | Memalloc | 50 |  | 150.0 µs |'
    }

    It 'shows cases of one suite whose keys differ in one table, blank where a case has no such key (defect: the Redis suite stopped the report)' {
        $report.Split("`n") | Should -Contain '| lock, contended | Memalloc |  | 4 | 2.0 µs |'
    }

    It 'lists the notes of the run' {
        $report | Should -Match 'Suite Readers wrote no results'
    }

    It 'writes the Get and Set charts beside the report and shows them' {
        foreach ($op in 'get', 'set') {
            Join-Path $repo 'docs' "benchmarks-$op.svg" | Should -Exist
            $report | Should -Match "!\[[^\]]+\]\(benchmarks-$op\.svg\)"
        }
    }
}

Describe 'New-LogLogChart' {
    BeforeAll {
        $series = @(
            [pscustomobject]@{ Name = 'Fast'; Color = '#0072B2'; Bold = $true; Points = @(
                    [pscustomobject]@{ X = 16; Y = 50 }, [pscustomobject]@{ X = 1MB; Y = 20000 }) }
            [pscustomobject]@{ Name = 'Floor & limit'; Color = '#000000'; Dashed = $true; Points = @(
                    [pscustomobject]@{ X = 16; Y = 2 }, [pscustomobject]@{ X = 1MB; Y = 19000 }) }
            [pscustomobject]@{ Name = 'Absent'; Color = '#E69F00'; Points = @() }
        )
        $svg = [xml] (New-LogLogChart -Title 'Get' -Subtitle 'when' -XLabel 'value size' -YLabel 'time per operation' `
                -XTicks 16, 1KB, 1MB -FormatX { param($x) Format-BenchSize $x } -FormatY { param($y) Format-BenchTime $y } -Series $series)
        $texts = @($svg.svg.text | ForEach-Object { $_.'#text' })
    }

    It 'is well-formed SVG with its title and both axis labels' {
        $svg.svg.xmlns | Should -Be 'http://www.w3.org/2000/svg'
        $texts | Should -Contain 'Get'
        $texts | Should -Contain 'value size'
        $texts | Should -Contain 'time per operation'
    }

    It 'labels the x ticks as sizes and every decade of y as a time' {
        $texts | Should -Contain '16 B'
        $texts | Should -Contain '1 MiB'
        foreach ($decade in '1.00 ns', '10 ns', '100 ns', '1.0 µs', '10.0 µs') { $texts | Should -Contain $decade }
    }

    It 'draws a line per measured series, larger values further right and higher up' {
        $lines = @($svg.svg.polyline)
        $lines.Count | Should -Be 2
        $first, $last = $lines[0].points -split ' ' | ForEach-Object { , [double[]] ($_ -split ',') }
        $last[0] | Should -BeGreaterThan $first[0]
        $last[1] | Should -BeLessThan $first[1]
    }

    It 'names every series in the legend, escaped, and says which were not measured' {
        $texts | Should -Contain 'Fast'
        $texts | Should -Contain 'Floor & limit'
        $texts | Should -Contain 'Absent (not measured)'
    }
}

Describe 'Use-ShmemHugePageSetting' {
    BeforeEach {
        # A stand-in for /sys/kernel/mm/transparent_hugepage/shmem_enabled: the machine's own is never touched here.
        $path = Join-Path $TestDrive 'shmem_enabled'
        Set-Content -LiteralPath $path -Value 'always within_size advise [never] deny force' -NoNewline
    }

    It 'runs the block with the new value and puts the old one back' {
        $seen = Use-ShmemHugePageSetting -Value advise -Path $path -ScriptBlock { Get-ShmemHugePageSetting -Path $path }
        $seen | Should -Be 'advise'
        Get-ShmemHugePageSetting -Path $path | Should -Be 'never'
    }

    It 'puts the old value back when the block throws' {
        { Use-ShmemHugePageSetting -Value advise -Path $path -ScriptBlock { throw 'benchmark failed' } } | Should -Throw 'benchmark failed'
        Get-ShmemHugePageSetting -Path $path | Should -Be 'never'
    }
}

Describe 'Get-BenchPercentile' {
    It 'gives the <Percent>th percentile of 1..10 as <Expected>' -TestCases @(
        @{ Percent = 50; Expected = 5.5 }
        @{ Percent = 0; Expected = 1 }
        @{ Percent = 100; Expected = 10 }
        @{ Percent = 99; Expected = 9.91 }
    ) {
        [math]::Abs((Get-BenchPercentile -Samples (10..1) -Percent $Percent) - $Expected) | Should -BeLessThan 1e-9
    }

    It 'gives nothing for no samples' {
        Get-BenchMedian -Samples @() | Should -BeNullOrEmpty
    }
}
