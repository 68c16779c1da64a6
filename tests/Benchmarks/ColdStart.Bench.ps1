#Requires -Version 7.4
<#
.SYNOPSIS
Suite ColdStart: the CPU time a fresh pwsh spends on its first use of Memalloc, beside a fresh pwsh's first
Export-Clixml and Import-Clixml of the same value: what a cron job pays.

.DESCRIPTION
Each case is a new `pwsh -NoProfile -NonInteractive -Command` that measures its own CPU time (all threads:
[System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime) around the work only, so pwsh's own start-up
is left out without subtracting a bare pwsh's (too noisy to judge by):

  Memalloc  Import-Module Memalloc; Set-MemStack a 1; Get-MemStack a  (the built module found on PSModulePath)
  Clixml    1 | Export-Clixml f; Import-Clixml f                     (f a file in the temporary folder)

One unmeasured pair first (the store is created, the files are in the page cache), then the cases alternate, the
order swapped every pair; medians.
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $ContextPath,
    [Parameter(Mandatory)] [string] $OutPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'BenchSuite.psm1')

$context = Read-BenchContext -Path $ContextPath
$processes = if ($context.Quick) { 3 } else { 15 }
$store = 'bench-' + [guid]::NewGuid().ToString('N')
$file = Join-Path ([System.IO.Path]::GetTempPath()) "memalloc-$store.xml"
# out/, which holds Memalloc/<version>/: `Import-Module Memalloc` finds the built module as it finds an installed one.
$modulePath = Split-Path -Parent (Split-Path -Parent $context.ModuleDir)

$timed = {
    param([string] $Work)
    # The child prints the CPU time of $Work in ns on its last line, after checking that the value came back.
    @(
        '$before = [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime'
        $Work
        '$after = [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime'
        'if ($value -ne 1) { throw "The value did not come back: $value" }'
        '[Console]::Out.WriteLine(($after - $before).Ticks * 100)'
    ) -join "`n"
}
$cases = [ordered]@{
    Memalloc               = & $timed "Import-Module Memalloc; Set-MemStack a 1 -Store $store; `$value = Get-MemStack a -Store $store"
    'Export/Import-Clixml' = & $timed "1 | Export-Clixml '$file'; `$value = Import-Clixml '$file'"
}

function Invoke-Fresh([string] $Command) {
    $info = [System.Diagnostics.ProcessStartInfo]::new($context.Pwsh)
    foreach ($a in '-NoProfile', '-NonInteractive', '-Command', $Command) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $info.Environment['PSModulePath'] = $modulePath + [System.IO.Path]::PathSeparator + $env:PSModulePath
    $process = [System.Diagnostics.Process]::Start($info)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEnd()
    $process.WaitForExit()
    $lines = @($stdout.Result -split "`n" | Where-Object { $_.Trim() })
    if ($process.ExitCode -ne 0 -or $lines.Count -eq 0) { throw "A fresh pwsh failed (exit code $($process.ExitCode)): $stderr" }
    [double] $lines[-1]
}

$notes = [System.Collections.Generic.List[string]]::new()
$samples = @{}
foreach ($name in $cases.Keys) { $samples[$name] = [System.Collections.Generic.List[double]]::new() }
try {
    foreach ($name in $cases.Keys) { $null = Invoke-Fresh $cases[$name] }
    $names = @($cases.Keys)
    for ($i = 0; $i -lt $processes; $i++) {
        $order = if ($i % 2) { $names[1], $names[0] } else { $names }
        foreach ($name in $order) { $samples[$name].Add((Invoke-Fresh $cases[$name])) }
    }
}
catch {
    $notes.Add("$($_.Exception.Message)")
}
finally {
    Remove-Item -LiteralPath $file -ErrorAction Ignore
    & $context.Pwsh -NoProfile -NonInteractive -Command "Import-Module '$(Join-Path $context.ModuleDir 'Memalloc.psd1')'; Remove-MemStore -Name $store -Force -Confirm:`$false -ErrorAction Ignore"
}

$measurements = foreach ($name in $cases.Keys) {
    if ($samples[$name].Count -eq 0) { continue }
    $median = Get-BenchMedian -Samples $samples[$name]
    Write-Host ('{0,-22} {1,8:N1} ms CPU (median of {2})' -f $name, ($median / 1e6), $samples[$name].Count)
    New-BenchMeasurement -Suite ColdStart -Case 'first write and read' -Subject $name -Value $median -Unit ns -Clock cpu `
        -Detail @{ Processes = $samples[$name].Count; SamplesNs = @($samples[$name]) }
}
Save-BenchSuiteResult -Path $OutPath -Measurements @($measurements) -Notes $notes
