# Counts what the test runners ran, and writes the Test task's summary: what a filter left out, then
# 'tests: N passed, N failed[, N skipped]' as the last line.

Set-StrictMode -Version Latest

# Passed, failed and skipped tests of an xunit run, from the results in its TRX file. Not from the TRX
# <Counters>: the logger writes a skipped test as a result with outcome NotExecuted but leaves it out of
# notExecuted (tests/fixtures/xunit-pass-fail-skip.trx). Any outcome but Passed and NotExecuted is a failure.
function Get-TrxCount {
    [CmdletBinding()]
    param ([Parameter(Mandatory)] [string] $Path)

    $namespace = @{ t = 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010' }
    $outcomes = @(Select-Xml -LiteralPath $Path -XPath '/t:TestRun/t:Results/t:UnitTestResult' -Namespace $namespace |
            ForEach-Object { $_.Node.outcome })
    $passed = @($outcomes | Where-Object { $_ -eq 'Passed' }).Count
    $skipped = @($outcomes | Where-Object { $_ -eq 'NotExecuted' }).Count
    [pscustomobject]@{
        Passed  = $passed
        Failed  = $outcomes.Count - $passed - $skipped
        Skipped = $skipped
    }
}

# Passed, failed and skipped tests from the last 'NAME: N passed, N failed, N skipped[, N not run]' line a runner
# printed (tests/Memalloc.TestRunner, which the arm64 pass runs); a run that printed none is one failure.
function Get-RunnerLineCount {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory)] [AllowEmptyCollection()] [AllowEmptyString()] [string[]] $Line,
        [Parameter(Mandatory)] [string] $Runner
    )

    $pattern = '^' + [regex]::Escape($Runner) + ': (\d+) passed, (\d+) failed, (\d+) skipped(, \d+ not run)?$'
    $summary = @($Line | Where-Object { $_ -match $pattern }) | Select-Object -Last 1
    if (-not $summary -or $summary -notmatch $pattern) { return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    [pscustomobject]@{ Passed = [int] $Matches[1]; Failed = [int] $Matches[2]; Skipped = [int] $Matches[3] }
}

# The summary lines from each runner's counts (Runner, Passed, Failed, Skipped, NotRun). Tests a filter left
# out (NotRun: the $LeftOutTag tests, which the task of that name runs) are named on a line of their own, never
# counted as skipped; the last line is the one CI and people read.
function Format-TestSummary {
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory)] [object[]] $Count,
        [string] $LeftOutTag = 'Stress'
    )

    $sum = { param ($Name) [int] ($Count | ForEach-Object { if ($_.PSObject.Properties[$Name]) { $_.$Name } } | Measure-Object -Sum).Sum }
    $notRun = & $sum 'NotRun'
    if ($notRun -gt 0) {
        $byRunner = @($Count | Where-Object { $_.PSObject.Properties['NotRun'] -and $_.NotRun -gt 0 } |
                ForEach-Object { "$($_.NotRun) $($_.Runner)" }) -join ', '
        "not run: $notRun $LeftOutTag tests ($byRunner; run them with -Task $LeftOutTag)"
    }
    $line = "tests: $(& $sum 'Passed') passed, $(& $sum 'Failed') failed"
    $skipped = & $sum 'Skipped'
    if ($skipped -gt 0) { $line += ", $skipped skipped" }
    $line
}

Export-ModuleMember -Function Get-TrxCount, Get-RunnerLineCount, Format-TestSummary
