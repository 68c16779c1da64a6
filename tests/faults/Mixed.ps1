#Requires -Version 7.4
# Mixed load from one pwsh process with several runspaces, on names every process shares: reads, writes, removes,
# increments, script-block updates, existence tests, listings, values with a time to live. Used by the concurrency
# tests (many of these processes at once, then exact counter totals) and by the soak (one long run whose memory the
# parent samples). Writes one JSON object of tallies to ResultPath when done.
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Store,
    [Parameter(Mandatory)] [int] $Id,
    [Parameter(Mandatory)] [string] $ResultPath,
    [int] $Runspaces = 2,
    [double] $Seconds = 10,
    [int] $SharedNames = 16,
    [int] $MaxSize = 2048,
    [switch] $WithTimeToLive,
    [string] $ReadyPath
)

$ErrorActionPreference = 'Stop'
$valueScript = Join-Path $PSScriptRoot 'FaultValue.ps1'
Import-Module -Name $ModulePath
if ($ReadyPath) { Set-Content -LiteralPath $ReadyPath -Value $PID }

$tallies = 1..$Runspaces | ForEach-Object -ThrottleLimit $Runspaces -Parallel {
    $ErrorActionPreference = 'Stop'
    . $using:valueScript
    Import-Module -Name $using:ModulePath
    $store = $using:Store
    $slot = $using:Id * 100 + $_
    $random = [System.Random]::new($slot * 7919 + $PID)
    $t = @{ Increments = 0L; ScriptUpdates = 0L; Reads = 0L; Writes = 0L; Removes = 0L; Tests = 0L; Listings = 0L;
        Bad = 0L; Errors = 0L; Messages = [System.Collections.Generic.List[string]]::new() }
    $seq = 0L
    $deadline = [DateTime]::UtcNow.AddSeconds($using:Seconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        $name = "shared-$($random.Next($using:SharedNames))"
        $op = $random.Next(100)
        try {
            if ($op -lt 30) {
                $value = Get-MemStack -Name $name -Store $store -ErrorAction SilentlyContinue -ErrorVariable missing
                $t.Reads++
                if ($null -ne $value -and $null -eq (ConvertFrom-FaultValue $value)) {
                    $t.Bad++
                    $t.Messages.Add("bad value in ${name}: $("$value".Substring(0, [Math]::Min(60, "$value".Length)))")
                }
                foreach ($e in $missing) {
                    if ($e.CategoryInfo.Category -ne 'ObjectNotFound') { throw $e }
                }
            }
            elseif ($op -lt 50) {
                $seq++
                $value = New-FaultValue -Slot $slot -Seq $seq -Length $random.Next(1, $using:MaxSize)
                if ($using:WithTimeToLive -and $op -lt 35) {
                    Set-MemStack -Name "ttl-$name" -Value $value -Store $store -TimeToLive ([TimeSpan]::FromMilliseconds(500))
                }
                else {
                    Set-MemStack -Name $name -Value $value -Store $store
                }
                $t.Writes++
            }
            elseif ($op -lt 58) {
                Remove-MemStack -Name $name -Store $store -ErrorAction SilentlyContinue -ErrorVariable missing
                foreach ($e in $missing) {
                    if ($e.CategoryInfo.Category -ne 'ObjectNotFound') { throw $e }
                }
                $t.Removes++
            }
            elseif ($op -lt 78) {
                $null = Update-MemStack -Name 'counter' -Increment 1 -Store $store
                $t.Increments++
            }
            elseif ($op -lt 88) {
                $null = Update-MemStack -Name 'sbcounter' -ScriptBlock { $_ + 1 } -InitialValue 0 -Store $store
                $t.ScriptUpdates++
            }
            elseif ($op -lt 95) {
                $null = Test-MemStack -Name $name -Store $store
                $t.Tests++
            }
            else {
                foreach ($info in @(Get-MemStackInfo -Name 'shared-*' -Store $store)) {
                    if ($info.Name -notlike 'shared-*' -or $info.Size -le 0) {
                        $t.Bad++
                        $t.Messages.Add("bad info $($info.Name) size $($info.Size)")
                    }
                }
                $t.Listings++
            }
        }
        catch {
            $t.Errors++
            if ($t.Messages.Count -lt 20) { $t.Messages.Add("$($_.FullyQualifiedErrorId): $($_.Exception.Message)") }
        }
    }
    $t
}

$result = [ordered]@{ Id = $Id; Pid = $PID; Runspaces = $Runspaces }
foreach ($key in 'Increments', 'ScriptUpdates', 'Reads', 'Writes', 'Removes', 'Tests', 'Listings', 'Bad', 'Errors') {
    $result[$key] = ($tallies | ForEach-Object { $_[$key] } | Measure-Object -Sum).Sum
}
$result.Messages = @($tallies | ForEach-Object { $_.Messages } | Select-Object -First 40)
$result | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $ResultPath
