#Requires -Version 7.4
<#
.SYNOPSIS
Suite Peers: PHP APCu (apcu_store, apcu_fetch) and PHP sysvshm (shm_put_var, shm_get_var) at the core's value sizes.

.DESCRIPTION
tests/Benchmarks/peers/php-peers.php through php-cli, on the run's clock. A peer that is not installed is a note.
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
$notes = [System.Collections.Generic.List[string]]::new()
$peers = [ordered]@{
    APCu    = @{ Installed = $context.Peers.Apcu; Peer = 'apcu'; Settings = @('apc.enable_cli=1', 'apc.shm_size=64M') }
    sysvshm = @{ Installed = $context.Peers.Sysvshm; Peer = 'sysvshm'; Settings = @() }
}
$measurements = foreach ($subject in $peers.Keys) {
    $peer = $peers[$subject]
    if (-not $peer.Installed) {
        $notes.Add("PHP $subject is not installed: it is not measured.")
        continue
    }
    Write-Host "PHP $subject"
    $result = Invoke-BenchPhp -Context $context -Peer $peer.Peer -Settings $peer.Settings -Notes $notes
    foreach ($r in @($result | Where-Object { $_ } | ForEach-Object results)) {
        New-BenchMeasurement -Suite Peers -Case $r.method -Subject $subject -Value $r.medianNs -Unit ns -Clock $context.Clock `
            -Key @{ Size = [long] $r.size }
    }
}
Save-BenchSuiteResult -Path $OutPath -Measurements @($measurements) -Notes $notes
