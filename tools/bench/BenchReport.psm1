#Requires -Version 7.4
<#
Reading a run's results for the report: finding measurements by their keys, judging the targets, and formatting
times, sizes and ratios.
#>

Set-StrictMode -Version Latest

# The measurements whose properties equal every entry of $Filter (numbers compared as numbers, text ignoring case).
function Find-BenchMeasurement {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]] $Measurements,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Filter
    )
    foreach ($m in $Measurements) {
        $match = $true
        foreach ($key in $Filter.Keys) {
            $property = $m.PSObject.Properties[$key]
            if (-not $property -or $property.Value -ne $Filter[$key]) { $match = $false; break }
        }
        if ($match) { $m }
    }
}

# The value of the one measurement matching $Filter, or $null when there is none (or it has no value).
function Get-BenchValue {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]] $Measurements,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Filter
    )
    $found = @(Find-BenchMeasurement -Measurements $Measurements -Filter $Filter)
    if ($found.Count -gt 1) {
        throw "$($found.Count) measurements match $(($Filter.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ', '): a target must name one."
    }
    if ($found.Count -eq 1 -and $null -ne $found[0].Value) { return [double] $found[0].Value }
    return $null
}

# Each target of Benchmarks.psd1 judged on the measurements: Ratio (Of's value over Over's, or Of's value itself when
# the target has no Over: a limit in Of's unit, such as a latency), Unit (of such a limit, else $null), Required
# (text) and Status ('met', 'not met', 'not measured').
function Get-BenchTargetResult {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]] $Targets,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]] $Measurements
    )
    foreach ($t in $Targets) {
        $atMost = if ($t.ContainsKey('AtMost')) { [double] $t.AtMost } else { $null }
        $atLeast = if ($t.ContainsKey('AtLeast')) { [double] $t.AtLeast } else { $null }
        if ($null -eq $atMost -and $null -eq $atLeast) { throw "Target '$($t.Target)' has neither AtMost nor AtLeast." }
        $of = Get-BenchValue -Measurements $Measurements -Filter $t.Of
        $unit = $null
        if ($t.ContainsKey('Over')) {
            $over = Get-BenchValue -Measurements $Measurements -Filter $t.Over
            $ratio = if ($null -ne $of -and $null -ne $over -and $over -ne 0) { $of / $over } else { $null }
        }
        else {
            $ratio = $of
            $unit = @(Find-BenchMeasurement -Measurements $Measurements -Filter $t.Of | ForEach-Object Unit) | Select-Object -First 1
            if (-not $unit) { $unit = 'ns' }
        }
        $status = if ($null -eq $ratio) { 'not measured' }
        elseif (($null -eq $atMost -or $ratio -le $atMost) -and ($null -eq $atLeast -or $ratio -ge $atLeast)) { 'met' }
        else { 'not met' }
        $show = { param($limit) if ($unit) { Format-BenchValue ([pscustomobject]@{ Value = $limit; Unit = $unit }) } else { '{0:N2}' -f $limit } }
        $required = if ($null -ne $atMost -and $atMost -eq $atLeast) { "= $(& $show $atMost)" }
        elseif ($null -ne $atMost -and $null -ne $atLeast) { "$(& $show $atLeast) to $(& $show $atMost)" }
        elseif ($null -ne $atMost) { "≤ $(& $show $atMost)" }
        else { "≥ $(& $show $atLeast)" }
        [pscustomobject]@{
            Source   = $t.Source
            Target   = $t.Target
            Ratio    = $ratio
            Unit     = $unit
            Exact    = $null -ne $atMost -and $atMost -eq $atLeast
            Required = $required
            Status   = $status
        }
    }
}

# A judged target's ratio (or value, for a limit in a unit) as the report prints it.
function Format-BenchTargetRatio {
    [CmdletBinding()]
    param ([Parameter(Mandatory)] $Result)
    if ($Result.Unit -and $null -ne $Result.Ratio) { return Format-BenchValue ([pscustomobject]@{ Value = $Result.Ratio; Unit = $Result.Unit }) }
    Format-BenchRatio $Result.Ratio -Exact:$Result.Exact
}

# A figure from a measurement's Detail, or $null when that measurement (or the figure) is missing.
function Get-BenchDetail {
    [CmdletBinding()]
    param ([AllowNull()] $Measurement, [Parameter(Mandatory)] [string] $Name)
    if ($null -eq $Measurement -or -not $Measurement.PSObject.Properties['Detail'] -or $null -eq $Measurement.Detail) { return $null }
    $property = $Measurement.Detail.PSObject.Properties[$Name]
    if ($property) { $property.Value } else { $null }
}

function Format-BenchRatio {
    [CmdletBinding()]
    param ([AllowNull()] $Ratio, [switch] $Exact)
    if ($null -eq $Ratio) { return 'n/a' }
    # A count off by one in a million must not print as 1.00.
    if ($Exact -and $Ratio -ne 1) { return $Ratio.ToString('0.######', [cultureinfo]::InvariantCulture) }
    return '{0:N2}' -f $Ratio
}

function Format-BenchTime {
    [CmdletBinding()]
    param ([AllowNull()] $Ns)
    if ($null -eq $Ns) { return 'n/a' }
    $Ns = [double] $Ns
    if ($Ns -lt 10) { return '{0:N2} ns' -f $Ns }
    if ($Ns -lt 1000) { return '{0:N0} ns' -f $Ns }
    if ($Ns -lt 1e6) { return '{0:N1} µs' -f ($Ns / 1e3) }
    if ($Ns -lt 1e9) { return '{0:N1} ms' -f ($Ns / 1e6) }
    return '{0:N2} s' -f ($Ns / 1e9)
}

function Format-BenchSize {
    [CmdletBinding()]
    param ([AllowNull()] $Bytes)
    if ($null -eq $Bytes) { return 'n/a' }
    $Bytes = [double] $Bytes
    if ($Bytes -ge 1MB) { return '{0:0.##} MiB' -f ($Bytes / 1MB) }
    if ($Bytes -ge 1KB) { return '{0:0.##} KiB' -f ($Bytes / 1KB) }
    return '{0:0} B' -f $Bytes
}

# A measurement's value in its unit: a time, a rate or a count.
function Format-BenchValue {
    [CmdletBinding()]
    param ([Parameter(Mandatory)] $Measurement)
    switch ($Measurement.Unit) {
        'ns' { Format-BenchTime $Measurement.Value }
        'op/s' { if ($null -eq $Measurement.Value) { 'n/a' } else { '{0:N0} /s' -f $Measurement.Value } }
        default { if ($null -eq $Measurement.Value) { 'n/a' } else { '{0:N0}' -f $Measurement.Value } }
    }
}

Export-ModuleMember -Function Find-BenchMeasurement, Get-BenchValue, Get-BenchDetail, Get-BenchTargetResult, Format-BenchTargetRatio,
    Format-BenchRatio,
    Format-BenchTime, Format-BenchSize, Format-BenchValue
