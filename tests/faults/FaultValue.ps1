# Self-checking values for the fault campaigns (dot-sourced by the Pester files and by every child script).
# A value is "<slot>|<seq>|<length>|<pattern>" where the pattern repeats "<slot>.<seq>;" up to <length> characters.
# Everything after the header is derived from the header, so a reader can rebuild the exact value it should see: a
# torn value (half of one write, half of another), a stale record under a new header or bytes that were never written
# all fail the comparison. No state is needed to check a value, so any process can check any other's writes.

function New-FaultValue {
    param ([long] $Slot, [long] $Seq, [int] $Length)
    $unit = "$Slot.$Seq;"
    $repeat = [Math]::Ceiling($Length / $unit.Length)
    "$Slot|$Seq|$Length|" + ($unit * $repeat).Substring(0, $Length)
}

# Returns @{ Slot; Seq; Length } for a well-formed value, $null for anything else (wrong type, torn, garbage).
function ConvertFrom-FaultValue {
    param ([AllowNull()] [object] $Value)
    if ($Value -isnot [string]) { return $null }
    $parts = $Value.Split('|', 4)
    if ($parts.Count -ne 4) { return $null }
    [long] $slot = 0; [long] $seq = 0; [int] $length = 0
    if (-not [long]::TryParse($parts[0], [ref] $slot) -or -not [long]::TryParse($parts[1], [ref] $seq) -or
        -not [int]::TryParse($parts[2], [ref] $length) -or $length -lt 0 -or $parts[3].Length -ne $length) {
        return $null
    }
    if (-not [string]::Equals($Value, (New-FaultValue -Slot $slot -Seq $seq -Length $length), [StringComparison]::Ordinal)) {
        return $null
    }
    [pscustomobject]@{ Slot = $slot; Seq = $seq; Length = $length }
}
