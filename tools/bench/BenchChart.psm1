#Requires -Version 7.4
<#
A log-log line chart as a standalone SVG document, written as plain text (no plotting dependency): decade grid
lines, labelled axes, one polyline with markers per series, and a legend. Used by Write-BenchmarkReport.ps1 for time
per operation against value size.
#>

Set-StrictMode -Version Latest

$script:Width = 880
$script:Height = 480
$script:Plot = @{ Left = 86; Top = 58; Right = 590; Bottom = 410 }
$script:Markers = 'circle', 'square', 'triangle', 'diamond', 'cross'

function ConvertTo-SvgText([string] $Text) {
    [System.Security.SecurityElement]::Escape($Text)
}

function Format-SvgNumber([double] $Value) {
    $Value.ToString('0.#', [cultureinfo]::InvariantCulture)
}

function New-SvgMarker([string] $Shape, [double] $X, [double] $Y, [string] $Color) {
    $f = { param($v) Format-SvgNumber $v }
    switch ($Shape) {
        'circle' { "<circle cx='$(& $f $X)' cy='$(& $f $Y)' r='4' fill='$Color'/>" }
        'square' { "<rect x='$(& $f ($X - 3.5))' y='$(& $f ($Y - 3.5))' width='7' height='7' fill='$Color'/>" }
        'triangle' { "<path d='M $(& $f $X) $(& $f ($Y - 5)) L $(& $f ($X + 4.5)) $(& $f ($Y + 3.5)) L $(& $f ($X - 4.5)) $(& $f ($Y + 3.5)) Z' fill='$Color'/>" }
        'diamond' { "<path d='M $(& $f $X) $(& $f ($Y - 5)) L $(& $f ($X + 5)) $(& $f $Y) L $(& $f $X) $(& $f ($Y + 5)) L $(& $f ($X - 5)) $(& $f $Y) Z' fill='$Color'/>" }
        default { "<path d='M $(& $f ($X - 4)) $(& $f ($Y - 4)) L $(& $f ($X + 4)) $(& $f ($Y + 4)) M $(& $f ($X - 4)) $(& $f ($Y + 4)) L $(& $f ($X + 4)) $(& $f ($Y - 4))' stroke='$Color' stroke-width='2'/>" }
    }
}

<#
.SYNOPSIS
Returns the SVG text of a log-log line chart.

.PARAMETER Series
Objects with Name, Color ('#rrggbb'), Dashed and Bold (bools), and Points: objects with X and Y (positive; others
are left out).

.PARAMETER XTicks
The x values that get a grid line and a label (FormatX turns each into its label).
#>
function New-LogLogChart {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory)] [string] $Title,
        [string] $Subtitle = '',
        [Parameter(Mandatory)] [string] $XLabel,
        [Parameter(Mandatory)] [string] $YLabel,
        [Parameter(Mandatory)] [double[]] $XTicks,
        [Parameter(Mandatory)] [scriptblock] $FormatX,
        [Parameter(Mandatory)] [scriptblock] $FormatY,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]] $Series
    )
    $p = $script:Plot
    $ys = @($Series | ForEach-Object { $_.Points } | Where-Object { $_.Y -gt 0 } | ForEach-Object Y)
    $yLow = if ($ys) { [math]::Floor([math]::Log10(($ys | Measure-Object -Minimum).Minimum)) } else { 0 }
    $yHigh = if ($ys) { [math]::Ceiling([math]::Log10(($ys | Measure-Object -Maximum).Maximum)) } else { 1 }
    if ($yHigh -le $yLow) { $yHigh = $yLow + 1 }
    $xLow = [math]::Log10(($XTicks | Measure-Object -Minimum).Minimum)
    $xHigh = [math]::Log10(($XTicks | Measure-Object -Maximum).Maximum)
    $toX = { param([double] $x) $p.Left + ([math]::Log10($x) - $xLow) / ($xHigh - $xLow) * ($p.Right - $p.Left) }
    $toY = { param([double] $y) $p.Bottom - ([math]::Log10($y) - $yLow) / ($yHigh - $yLow) * ($p.Bottom - $p.Top) }
    $n = { param($v) Format-SvgNumber $v }

    $svg = [System.Collections.Generic.List[string]]::new()
    $svg.Add("<svg xmlns='http://www.w3.org/2000/svg' width='$script:Width' height='$script:Height' viewBox='0 0 $script:Width $script:Height' font-family='DejaVu Sans, Arial, sans-serif' font-size='12'>")
    $svg.Add("<rect width='100%' height='100%' fill='#ffffff'/>")
    $svg.Add("<text x='$($p.Left)' y='24' font-size='16' font-weight='bold'>$(ConvertTo-SvgText $Title)</text>")
    if ($Subtitle) { $svg.Add("<text x='$($p.Left)' y='42' fill='#555555'>$(ConvertTo-SvgText $Subtitle)</text>") }

    # Grid and tick labels: a line per decade of y, a line per tick of x.
    for ($d = $yLow; $d -le $yHigh; $d++) {
        $y = & $n (& $toY ([math]::Pow(10, $d)))
        $svg.Add("<line x1='$($p.Left)' y1='$y' x2='$($p.Right)' y2='$y' stroke='#dddddd'/>")
        $svg.Add("<text x='$($p.Left - 8)' y='$y' dy='4' text-anchor='end'>$(ConvertTo-SvgText (& $FormatY ([math]::Pow(10, $d))))</text>")
    }
    foreach ($tick in $XTicks) {
        $x = & $n (& $toX $tick)
        $svg.Add("<line x1='$x' y1='$($p.Top)' x2='$x' y2='$($p.Bottom)' stroke='#dddddd'/>")
        $svg.Add("<text x='$x' y='$($p.Bottom + 18)' text-anchor='middle'>$(ConvertTo-SvgText (& $FormatX $tick))</text>")
    }
    $svg.Add("<rect x='$($p.Left)' y='$($p.Top)' width='$($p.Right - $p.Left)' height='$($p.Bottom - $p.Top)' fill='none' stroke='#333333'/>")
    $svg.Add("<text x='$(($p.Left + $p.Right) / 2)' y='$($p.Bottom + 44)' text-anchor='middle' font-size='13'>$(ConvertTo-SvgText $XLabel)</text>")
    $svg.Add("<text transform='translate(22 $(($p.Top + $p.Bottom) / 2)) rotate(-90)' text-anchor='middle' font-size='13'>$(ConvertTo-SvgText $YLabel)</text>")

    # Series, then the legend beside the plot.
    $legendY = $p.Top + 8
    for ($i = 0; $i -lt $Series.Count; $i++) {
        $s = $Series[$i]
        $marker = $script:Markers[$i % $script:Markers.Count]
        $dash = if ($s.PSObject.Properties['Dashed'] -and $s.Dashed) { " stroke-dasharray='6 4'" } else { '' }
        $stroke = if ($s.PSObject.Properties['Bold'] -and $s.Bold) { 3 } else { 2 }
        $points = @($s.Points | Where-Object { $_.X -gt 0 -and $_.Y -gt 0 } | Sort-Object X | ForEach-Object { [pscustomobject]@{ X = & $toX $_.X; Y = & $toY $_.Y } })
        if ($points.Count -gt 1) {
            $coordinates = ($points | ForEach-Object { "$(& $n $_.X),$(& $n $_.Y)" }) -join ' '
            $svg.Add("<polyline points='$coordinates' fill='none' stroke='$($s.Color)' stroke-width='$stroke'$dash/>")
        }
        foreach ($point in $points) { $svg.Add((New-SvgMarker $marker $point.X $point.Y $s.Color)) }

        $lx = $p.Right + 24
        $svg.Add("<line x1='$lx' y1='$legendY' x2='$($lx + 28)' y2='$legendY' stroke='$($s.Color)' stroke-width='$stroke'$dash/>")
        $svg.Add((New-SvgMarker $marker ($lx + 14) $legendY $s.Color))
        $label = if ($points.Count) { $s.Name } else { "$($s.Name) (not measured)" }
        $svg.Add("<text x='$($lx + 36)' y='$legendY' dy='4'>$(ConvertTo-SvgText $label)</text>")
        $legendY += 22
    }
    $svg.Add('</svg>')
    $svg -join "`n"
}

Export-ModuleMember -Function New-LogLogChart
