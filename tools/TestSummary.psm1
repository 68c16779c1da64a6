# Counts what the test runners ran, for build.ps1's summary line.

Set-StrictMode -Version Latest

# Passed, failed and skipped tests of an xunit run, from its TRX file.
function Get-TrxCount {
    [CmdletBinding()]
    param ([Parameter(Mandatory)] [string] $Path)

    [xml] $trx = Get-Content -LiteralPath $Path -Raw
    $counters = $trx.TestRun.ResultSummary.Counters
    [pscustomobject]@{
        Passed  = [int] $counters.passed
        Failed  = [int] $counters.failed + [int] $counters.error + [int] $counters.timeout + [int] $counters.aborted
        Skipped = [int] $counters.notExecuted
    }
}

Export-ModuleMember -Function Get-TrxCount
