#Requires -Version 7.4
# Runs every kind of operation against a store that may be corrupt, planted or removed, in its own process so that a
# crash (the thing we test for) cannot take the test runner down. Prints one JSON array: for each operation, whether it
# succeeded, what it returned (shortened) and, when it failed, the error id, category and message.
# With -ReadyPath/-GoPath it first opens the store (a read), signals, and waits for the parent to break the store.
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $Store,
    [string[]] $Names = @(),
    [string] $ReadyPath,
    [string] $GoPath,
    [string] $WriteName = 'probe-write',
    [switch] $SkipWrite,
    # Batch mode: probe each of these stores in turn and write <ResultDir>/<store>.json after each one, so that a
    # crash or a hang is attributed to the store being probed and the parent can go on with the rest.
    [string] $Stores,
    [string] $ResultDir
)

$ErrorActionPreference = 'Stop'
$WarningPreference = 'SilentlyContinue'
$Names = @($Names -split ',' | Where-Object { $_ })
Import-Module -Name $ModulePath

$results = [System.Collections.Generic.List[object]]::new()
function Step([string] $Op, [scriptblock] $Action) {
    $entry = [ordered]@{ Op = $Op; Ok = $true; Value = $null; ErrorId = $null; Category = $null; Message = $null }
    try {
        $errors = $null
        $out = & $Action 2>&1
        $records = @($out | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $values = @($out | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
        if ($records.Count -gt 0) { $errors = $records[0] }
        $entry.Value = (@($values | ForEach-Object { "$_" }) -join ',')
        if ($entry.Value.Length -gt 200) { $entry.Value = $entry.Value.Substring(0, 200) }
        if ($errors) { throw $errors }
    }
    catch {
        $entry.Ok = $false
        $entry.ErrorId = $_.FullyQualifiedErrorId
        $entry.Category = "$($_.CategoryInfo.Category)"
        $entry.Message = $_.Exception.Message
    }
    $results.Add([pscustomobject]$entry)
}

function Invoke-ProbeStep([string] $Store, [string[]] $Names) {
    if ($ReadyPath) {
        Step 'open' { Get-MemStackInfo -Store $Store | ForEach-Object Name }
        Set-Content -LiteralPath $ReadyPath -Value $PID
        while (-not (Test-Path -LiteralPath $GoPath)) { Start-Sleep -Milliseconds 20 }
    }
    foreach ($name in $Names) {
        Step "get $name" { Get-MemStack -Name $name -Store $Store }
        Step "test $name" { Test-MemStack -Name $name -Store $Store }
    }
    Step 'info' { Get-MemStackInfo -Store $Store | ForEach-Object { "$($_.Name):$($_.Size)" } }
    Step 'store' { Get-MemStore -Name $Store | ForEach-Object { "entries=$($_.Entries) generation=$($_.Generation)" } }
    # Verify through the core API: a MemStoreException is reported with the category the cmdlets give its kind.
    $entry = [ordered]@{ Op = 'verify'; Ok = $true; Value = $null; ErrorId = $null; Category = $null; Message = $null }
    try {
        $s = [Memalloc.Core.MemStore]::OpenExisting($Store)
        if ($null -eq $s) { $entry.Value = 'missing' }
        else {
            try { $r = $s.Verify(); $entry.Value = if ($r.IsValid) { 'valid' } else { 'invalid: ' + ($r.Problems -join '; ') } } finally { $s.Dispose() }
        }
    }
    catch {
        $e = $_.Exception
        while ($e -and $e -isnot [Memalloc.Core.MemStoreException]) { $e = $e.InnerException }
        $entry.Ok = $false
        $entry.Message = $_.Exception.Message
        if ($e) {
            $entry.ErrorId = "MemStoreException:$($e.Kind)"
            $entry.Category = switch ("$($e.Kind)") {
                'Corrupt' { 'InvalidData' }
                { $_ -in 'ForeignSegment', 'PermissionDenied' } { 'PermissionDenied' }
                'StoreRemoved' { 'ResourceUnavailable' }
                'StoreNotFound' { 'ObjectNotFound' }
                default { 'NotSpecified' }
            }
        }
        else { $entry.ErrorId = $_.Exception.GetType().FullName; $entry.Category = 'NotSpecified' }
    }
    $results.Add([pscustomobject]$entry)
    if (-not $SkipWrite) {
        Step 'set' { Set-MemStack -Name $WriteName -Value 'written-after-fault' -Store $Store }
        Step 'get-after-set' { Get-MemStack -Name $WriteName -Store $Store }
        Step 'update' { Update-MemStack -Name 'probe-counter' -Increment 1 -Store $Store -PassThru }
    }
}

if ($Stores) {
    foreach ($one in ($Stores -split ',' | Where-Object { $_ })) {
        $results.Clear()
        Invoke-ProbeStep -Store $one -Names $Names
        $results | ConvertTo-Json -Depth 3 -AsArray | Set-Content -LiteralPath (Join-Path $ResultDir "$one.json")
    }
}
else {
    Invoke-ProbeStep -Store $Store -Names $Names
    $results | ConvertTo-Json -Depth 3 -AsArray
}
