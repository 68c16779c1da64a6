#Requires -Version 7.4
# A reader child: loops over the store's stacks and checks every value it gets. Killed by the parent at random
# points (a reader must never leave anything behind that blocks a writer), or stopped through StopPath.
# Lines in ReportPath: "ready <pid>", "reads <n> bad <n>" every 100 reads, "bad <name> <why>" at once for any
# value that is not one a writer could have written (torn, garbage, wrong type).
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Store,
    [Parameter(Mandatory)] [string] $ReportPath,
    [string] $StopPath
)

$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'FaultValue.ps1')
Import-Module -Name $ModulePath

$report = [System.IO.StreamWriter]::new($ReportPath, $true, [System.Text.UTF8Encoding]::new($false))
$report.AutoFlush = $true
$report.WriteLine("ready $PID")
$reads = 0L
$bad = 0L
$names = @()
while (-not ($StopPath -and (Test-Path -LiteralPath $StopPath))) {
    if ($reads % 50 -eq 0 -or $names.Count -eq 0) {
        $names = @(Get-MemStackInfo -Store $Store -ErrorAction SilentlyContinue | ForEach-Object Name)
        if ($names.Count -eq 0) { Start-Sleep -Milliseconds 20; $reads++; continue }
    }
    foreach ($name in $names) {
        # A stack removed between the listing and the read is a MemStackNotFound: fine, and not a value.
        $value = Get-MemStack -Name $name -Store $Store -ErrorAction SilentlyContinue
        $reads++
        if ($null -eq $value) { continue }
        $why = $null
        if ($name -like 'w*' -or $name -like 'shared-*') {
            if ($null -eq (ConvertFrom-FaultValue $value)) { $why = 'not a self-checking value' }
        }
        elseif ($name -like '*counter') {
            if ($value -isnot [long] -and $value -isnot [int]) { $why = "counter of type $($value.GetType().FullName)" }
            elseif ($value -lt 0) { $why = 'negative counter' }
        }
        if ($why) {
            $bad++
            $text = "$value"
            $report.WriteLine("bad $name $why : $($text.Substring(0, [Math]::Min(80, $text.Length)))")
        }
        if ($reads % 100 -eq 0) { $report.WriteLine("reads $reads bad $bad") }
    }
}
$report.WriteLine("reads $reads bad $bad")
$report.WriteLine('stopped')
$report.Dispose()
