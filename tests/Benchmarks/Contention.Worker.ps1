#Requires -Version 7.4
<#
.SYNOPSIS
One of the processes Contention.Bench.ps1 starts: increments a shared counter for as long as it is told to.

.DESCRIPTION
Warms up, prints 'ready', then for every line 'go <seconds> <counter>' on stdin increments that counter in a loop
for that long and prints '<increments> <seconds it took>'. Ends at 'exit' or the end of stdin.

  Memalloc   Update-MemStack -Name <counter> -Increment 1 -Store <store>
  FileMutex  under the named System.Threading.Mutex <mutex>: Import-Clixml <path>.<counter> (0 when missing),
             Export-Clixml of one more: what scripts do today
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [ValidateSet('Memalloc', 'FileMutex')] [string] $Mode,
    [Parameter(Mandatory)] [string] $ModuleDir,
    [Parameter(Mandatory)] [string] $Store,
    [Parameter(Mandatory)] [string] $Path,
    [Parameter(Mandatory)] [string] $MutexName
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if ($Mode -eq 'Memalloc') {
    Import-Module (Join-Path $ModuleDir 'Memalloc.psd1')
    $increment = { param([string] $Counter) Update-MemStack -Name $Counter -Increment 1 -Store $Store }
}
else {
    $mutex = [System.Threading.Mutex]::new($false, $MutexName)
    $increment = {
        param([string] $Counter)
        $file = "$Path.$Counter"
        $null = $mutex.WaitOne()
        try {
            $count = if (Test-Path -LiteralPath $file) { Import-Clixml -LiteralPath $file } else { 0 }
            Export-Clixml -InputObject ($count + 1) -LiteralPath $file
        }
        finally {
            $mutex.ReleaseMutex()
        }
    }
}

# Compile the loop and JIT the cmdlets before anything is timed.
for ($i = 0; $i -lt 20; $i++) { & $increment "warmup-$PID" }
[Console]::Out.WriteLine('ready')
while (($line = [Console]::In.ReadLine()) -and $line.StartsWith('go ')) {
    $null, $seconds, $counter = $line -split ' '
    $limit = [timespan]::FromSeconds([double]::Parse($seconds, [cultureinfo]::InvariantCulture))
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $count = 0
    while ($watch.Elapsed -lt $limit) {
        & $increment $counter
        $count++
    }
    [Console]::Out.WriteLine([string]::Format([cultureinfo]::InvariantCulture, '{0} {1}', $count, $watch.Elapsed.TotalSeconds))
}
