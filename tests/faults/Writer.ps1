#Requires -Version 7.4
# A writer child for the crash campaigns: loops writes until it is killed (SIGKILL, by the parent) or until StopPath
# exists. Every write that returned is acknowledged with one line in AckPath, written with a flushed write(2) so the
# line survives the kill: the parent may then demand that every acknowledged write is readable.
#   Set     "w<slot>-<seq % Names>" = self-checking string of MinSize..MaxSize characters; ack "set <name> <seq> <length>"
#   Grow    the same with large values, so that the store keeps compacting and growing into new arenas
#   Update  alternates Update-MemStack -Increment 1 on "counter" (ack "inc") and a script-block update on
#           "sbcounter" (ack "sb"); an unacknowledged update may or may not have committed, never twice
# Errors are acknowledged too ("err <message>"): the parent counts them as failures.
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Store,
    [Parameter(Mandatory)] [ValidateSet('Set', 'Grow', 'Update')] [string] $Mode,
    [Parameter(Mandatory)] [int] $Slot,
    [Parameter(Mandatory)] [string] $AckPath,
    [long] $StartSeq = 1,
    [int] $Names = 4,
    [int] $MinSize = 16,
    [int] $MaxSize = 4096,
    [string] $StopPath
)

$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'FaultValue.ps1')
Import-Module -Name $ModulePath

$ack = [System.IO.StreamWriter]::new($AckPath, $true, [System.Text.UTF8Encoding]::new($false))
$ack.AutoFlush = $true
$ack.WriteLine("ready $PID")
$random = [System.Random]::new($PID)
$seq = $StartSeq
while (-not ($StopPath -and (Test-Path -LiteralPath $StopPath))) {
    try {
        switch ($Mode) {
            'Update' {
                if ($seq % 2 -eq 0) {
                    $null = Update-MemStack -Name 'counter' -Increment 1 -Store $Store
                    $ack.WriteLine("inc counter $seq")
                }
                else {
                    $null = Update-MemStack -Name 'sbcounter' -ScriptBlock { $_ + 1 } -InitialValue 0 -Store $Store
                    $ack.WriteLine("sb sbcounter $seq")
                }
            }
            default {
                $name = "w$Slot-$($seq % $Names)"
                $length = $random.Next($MinSize, $MaxSize + 1)
                Set-MemStack -Name $name -Value (New-FaultValue -Slot $Slot -Seq $seq -Length $length) -Store $Store
                $ack.WriteLine("set $name $seq $length")
            }
        }
    }
    catch {
        $ack.WriteLine("err $($_.FullyQualifiedErrorId): $($_.Exception.Message -replace '\s+', ' ')")
        Start-Sleep -Milliseconds 50
    }
    $seq++
}
$ack.WriteLine('stopped')
$ack.Dispose()
