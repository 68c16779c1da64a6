#Requires -Version 7.4
<#
What every benchmark suite (tests/Benchmarks/*.Bench.ps1) shares: the run's context, the measurement record, the
suite's result file, medians, and running the BenchmarkDotNet program and the PHP peer script.

A suite is a script that tools/bench/Measure-Benchmarks.ps1 runs in a fresh pwsh with -ContextPath and -OutPath. It
reads the context (Read-BenchContext), measures, and writes its measurements (Save-BenchSuiteResult). A measurement
is one number: Suite, Case (the operation), Subject (who does it: Memalloc or a peer), Value and Unit ('ns' per
operation, 'op/s', 'count'), Clock ('cpu', 'wall' or none), any keys that tell cases apart (Size in bytes, Stacks,
HugePages, Data, Readers, ...), and Detail (samples and other figures the report may show but targets never match).
#>

Set-StrictMode -Version Latest

# Properties of a measurement that are not keys; everything else on it is matched by the targets and shown by the report.
$script:NotKeys = 'Value', 'Unit', 'Clock', 'Detail'

function Read-BenchContext {
    [CmdletBinding()]
    param ([Parameter(Mandatory)] [string] $Path)
    Get-Content -LiteralPath $Path -Raw | ConvertFrom-Json
}

function New-BenchMeasurement {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory)] [string] $Suite,
        [Parameter(Mandatory)] [string] $Case,
        [Parameter(Mandatory)] [string] $Subject,
        [Parameter(Mandatory)] [AllowNull()] [Nullable[double]] $Value,
        [Parameter(Mandatory)] [ValidateSet('ns', 'op/s', 'count')] [string] $Unit,
        [ValidateSet('cpu', 'wall', '')] [string] $Clock = '',
        # Further keys, e.g. @{ Size = 16 } or @{ Stacks = 100; HugePages = 'advise' }.
        [System.Collections.IDictionary] $Key = @{},
        [System.Collections.IDictionary] $Detail = @{}
    )
    $measurement = [ordered]@{ Suite = $Suite; Case = $Case; Subject = $Subject }
    foreach ($name in $Key.Keys) {
        if ($name -in $script:NotKeys -or $measurement.Contains($name)) { throw "'$name' cannot be a measurement key." }
        $measurement[$name] = $Key[$name]
    }
    $measurement.Value = $Value
    $measurement.Unit = $Unit
    $measurement.Clock = $Clock
    $measurement.Detail = [pscustomobject] $Detail
    [pscustomobject] $measurement
}

function Save-BenchSuiteResult {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory)] [string] $Path,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]] $Measurements,
        # Anything the reader of the report must know about this suite's run (a peer that was missing, an error).
        [string[]] $Notes = @(),
        # Conditions of the run worth reporting (e.g. the shmem_enabled setting each part ran with).
        [System.Collections.IDictionary] $Facts = @{}
    )
    [pscustomobject]@{ Measurements = @($Measurements); Notes = @($Notes); Facts = [pscustomobject] $Facts } |
        ConvertTo-Json -Depth 8 | Set-Content -LiteralPath $Path -Encoding utf8NoBOM
}

function Get-BenchMedian {
    [CmdletBinding()]
    param ([Parameter(Mandatory)] [AllowEmptyCollection()] [double[]] $Samples)
    Get-BenchPercentile -Samples $Samples -Percent 50
}

# Linear interpolation between the closest ranks (the median of an even count is the mean of the middle two).
function Get-BenchPercentile {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory)] [AllowEmptyCollection()] [double[]] $Samples,
        [Parameter(Mandatory)] [ValidateRange(0, 100)] [double] $Percent
    )
    if ($Samples.Count -eq 0) { return $null }
    $sorted = [double[]] ($Samples | Sort-Object)
    $rank = ($sorted.Count - 1) * $Percent / 100
    $low = [math]::Floor($rank)
    $high = [math]::Ceiling($rank)
    $sorted[$low] + ($sorted[$high] - $sorted[$low]) * ($rank - $low)
}

# This process's CPU time (user + system, all threads; getrusage) in nanoseconds.
function Get-BenchCpuNs {
    [Environment]::CpuUsage.TotalTime.Ticks * 100
}

# Builds tests/Benchmarks/Memalloc.Benchmarks once per run (dotnet build is incremental) and runs its 'run' verb;
# returns its result document. Its console output goes to out/bench/<LogName>.log; a failing case's exception is
# added to $Notes.
function Invoke-BenchDotNet {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory)] $Context,
        [Parameter(Mandatory)] [string[]] $Groups,
        [Parameter(Mandatory)] [string] $LogName,
        [string[]] $Arguments = @(),
        [Parameter(Mandatory)] [AllowEmptyCollection()] [System.Collections.Generic.List[string]] $Notes
    )
    $project = Join-Path $Context.RepoRoot 'tests' 'Benchmarks' 'Memalloc.Benchmarks' 'Memalloc.Benchmarks.csproj'
    $binDir = Join-Path $Context.OutDir 'bin'
    $build = & dotnet build $project --configuration Release --output $binDir --nologo --verbosity quiet 2>&1
    if ($LASTEXITCODE -ne 0) { throw "The benchmark project did not build: $($build -join "`n")" }

    $outPath = Join-Path $Context.OutDir "$LogName.json"
    $logPath = Join-Path $Context.OutDir "$LogName.log"
    Remove-Item -LiteralPath $outPath -ErrorAction Ignore
    $iterations, $warmups = if ($Context.Quick) { 3, 1 } else { 7, 2 }
    $all = @('run', '--out', $outPath, '--groups', ($Groups -join ','), '--clock', $Context.Clock,
        '--iterations', "$iterations", '--warmups', "$warmups") + $Arguments
    & (Join-Path $binDir 'Memalloc.Benchmarks') @all *> $logPath
    if ($LASTEXITCODE -ne 0) { $Notes.Add("Memalloc.Benchmarks ($($Groups -join ', ')) exited with code $LASTEXITCODE (see out/bench/$LogName.log).") }
    if (-not (Test-Path -LiteralPath $outPath)) { throw "Memalloc.Benchmarks wrote no results (see out/bench/$LogName.log)." }
    $result = Get-Content -LiteralPath $outPath -Raw | ConvertFrom-Json

    if (-not $result.CoreAvailable) { $Notes.Add("The core could not be used, so its benchmarks were skipped: $($result.CoreError)") }
    foreach ($e in $result.Errors) { $Notes.Add($e) }
    foreach ($b in @($result.Benchmarks | Where-Object Error)) { $Notes.Add("$($b.Group).$($b.Method)($($b.Value)): $($b.Error)") }
    # BenchmarkDotNet logs a failing benchmark's exception; say which, so a failure in the core is visible in the report.
    $lines = @(Get-Content -LiteralPath $logPath)
    for ($i = 0; $i -lt $lines.Count; $i++) {
        if ($lines[$i] -match '^\s*---> (\S+Exception): (.*)$') {
            $where = ($lines[($i + 1)..([math]::Min($i + 4, $lines.Count - 1))] | ForEach-Object { $_.Trim() -replace ' in /\S+:line (\d+)', ' line $1' }) -join '; '
            $Notes.Add("Exception in $($LogName): $($Matches[1]): $($Matches[2]) ($where)")
        }
    }
    $result
}

# Runs tests/Benchmarks/peers/php-peers.php for one peer; returns its result document, or $null (with a note) when
# it failed.
function Invoke-BenchPhp {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory)] $Context,
        [Parameter(Mandatory)] [ValidateSet('apcu', 'sysvshm', 'apcu-scale')] [string] $Peer,
        [string[]] $Settings = @(),
        [Parameter(Mandatory)] [AllowEmptyCollection()] [System.Collections.Generic.List[string]] $Notes
    )
    $script = Join-Path $Context.RepoRoot 'tests' 'Benchmarks' 'peers' 'php-peers.php'
    $blocks = if ($Context.Quick) { 3 } else { 9 }
    $ini = @($Settings | ForEach-Object { '-d', $_ })
    $output = & php @ini $script $Peer $Context.Clock $blocks
    if ($LASTEXITCODE -ne 0) {
        $Notes.Add("The PHP peer '$Peer' failed (exit code $LASTEXITCODE).")
        return $null
    }
    ($output -join "`n") | ConvertFrom-Json
}
