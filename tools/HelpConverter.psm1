# Converts platyPS-schema markdown (docs/en-US) into external help without platyPS:
#   <Verb-Noun>.md -> one command:command in <external help file> (MAML, laid out as platyPS 0.14 writes it)
#   about_*.md      -> about_*.help.txt (plain text, laid out as platyPS's about renderer writes it)
# platyPS is unreachable from the build machines, and Get-Help of a binary cmdlet reads only MAML, so this is
# what puts synopsis, parameters and examples into `Get-Help <cmdlet> -Full`. It reads only what the schema
# defines (front matter, the fixed ## sections, ### -Parameter with a yaml block, ### Example N: title) and
# fails loudly on a document it cannot read, so that docs that drift from the schema break the build.

Set-StrictMode -Version Latest

$script:NsMaml = 'http://schemas.microsoft.com/maml/2004/10'
$script:NsCommand = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$script:NsDev = 'http://schemas.microsoft.com/maml/dev/2004/10'
$script:NsMSHelp = 'http://msdn.microsoft.com/mshelp'
$script:AllSets = '(All)'

#region Markdown reading

# Splits a document into its front matter and a flat list of headings and blocks (paragraphs, list items,
# tables, code fences), in order. Headings inside code fences are code, not headings.
function Read-MarkdownDocument {
    param ([Parameter(Mandatory)] [string] $Path)

    $lines = [string[]] ((Get-Content -LiteralPath $Path -Raw -Encoding utf8) -replace "`r`n", "`n" -split "`n")
    $frontMatter = [ordered] @{}
    $i = 0
    if ($lines.Count -gt 0 -and $lines[0].Trim() -eq '---') {
        $i = 1
        while ($i -lt $lines.Count -and $lines[$i].Trim() -ne '---') {
            if ($lines[$i] -match '^\s*([^:]+?)\s*:\s*(.*?)\s*$') { $frontMatter[$Matches[1]] = $Matches[2] }
            $i++
        }
        if ($i -ge $lines.Count) { throw "${Path}: the front matter has no closing '---'." }
        $i++
    }

    $nodes = [System.Collections.Generic.List[object]]::new()
    $paragraph = [System.Collections.Generic.List[string]]::new()
    $kind = 'Paragraph'

    $flush = {
        if ($paragraph.Count -gt 0) {
            $text = if ($kind -eq 'Table') { $paragraph -join "`n" } else { ($paragraph | ForEach-Object Trim) -join ' ' }
            $nodes.Add([pscustomobject] @{ Type = $kind; Level = 0; Text = $text; Language = $null })
            $paragraph.Clear()
        }
    }

    for (; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if ($line -match '^\s*(```+|~~~+)\s*([\w-]*)\s*$') {
            . $flush
            $fence = $Matches[1]
            $language = $Matches[2]
            $code = [System.Collections.Generic.List[string]]::new()
            $i++
            while ($i -lt $lines.Count -and $lines[$i].Trim() -ne $fence) {
                $code.Add($lines[$i])
                $i++
            }
            if ($i -ge $lines.Count) { throw "${Path}: a code block opened with '$fence' is never closed." }
            $nodes.Add([pscustomobject] @{ Type = 'Code'; Level = 0; Text = ($code -join "`n"); Language = $language })
            continue
        }
        if ($line -match '^(#{1,6})\s+(.*?)\s*#*\s*$') {
            . $flush
            $nodes.Add([pscustomobject] @{ Type = 'Heading'; Level = $Matches[1].Length; Text = $Matches[2]; Language = $null })
            continue
        }
        if ($line.Trim() -eq '') {
            . $flush
            $kind = 'Paragraph'
            continue
        }
        if ($line -match '^\s*\|') {
            if ($kind -ne 'Table') { . $flush; $kind = 'Table' }
            $paragraph.Add($line.Trim())
            continue
        }
        # As in CommonMark, a numbered item interrupts a paragraph only when it is number 1, so that a wrapped
        # line starting with '4096.' stays text.
        $startsItem = $line -match '^\s{0,3}([-*+]|(\d+)[.)])\s+' -and
            ($paragraph.Count -eq 0 -or $kind -eq 'ListItem' -or -not $Matches[2] -or $Matches[2] -eq '1')
        if ($startsItem) {
            # Each list item is a paragraph of its own; its continuation lines join it.
            . $flush
            $kind = 'ListItem'
            $paragraph.Add($line.Trim())
            continue
        }
        if ($kind -eq 'Table') { . $flush; $kind = 'Paragraph' }
        $paragraph.Add($line)
    }
    . $flush

    [pscustomobject] @{ Path = $Path; FrontMatter = $frontMatter; Nodes = $nodes }
}

# Groups the nodes under each '## ' heading; subsections ('### ') stay inside as heading nodes.
function Get-MarkdownSection {
    param ([Parameter(Mandatory)] $Document)

    $sections = [ordered] @{}
    $current = $null
    foreach ($node in $Document.Nodes) {
        if ($node.Type -eq 'Heading' -and $node.Level -le 2) {
            if ($node.Level -eq 2) {
                $current = [System.Collections.Generic.List[object]]::new()
                $sections[$node.Text.Trim().ToUpperInvariant()] = $current
            }
            else {
                $current = $null
            }
            continue
        }
        if ($null -ne $current) { $current.Add($node) }
    }
    $sections
}

# Splits a section's nodes at its '### ' headings: returns @{ Title; Nodes } in order. Nodes before the
# first subsection go under a $null title.
function Split-Subsection {
    param ([AllowEmptyCollection()] [object[]] $Nodes = @())

    $result = [System.Collections.Generic.List[object]]::new()
    $current = [pscustomobject] @{ Title = $null; Nodes = [System.Collections.Generic.List[object]]::new() }
    foreach ($node in $Nodes) {
        if ($node.Type -eq 'Heading' -and $node.Level -eq 3) {
            if ($null -ne $current.Title -or $current.Nodes.Count -gt 0) { $result.Add($current) }
            $current = [pscustomobject] @{ Title = $node.Text.Trim(); Nodes = [System.Collections.Generic.List[object]]::new() }
            continue
        }
        $current.Nodes.Add($node)
    }
    if ($null -ne $current.Title -or $current.Nodes.Count -gt 0) { $result.Add($current) }
    , $result
}

# Markdown inline syntax that reads badly as plain text: links become 'text (url)'; escapes are dropped.
function ConvertTo-PlainInline {
    param ([string] $Text)

    $Text = [regex]::Replace($Text, '\[([^\]]+)\]\(([^)\s]+)\)', {
            param ($m)
            if ($m.Groups[1].Value -eq $m.Groups[2].Value) { $m.Groups[1].Value } else { "$($m.Groups[1].Value) ($($m.Groups[2].Value))" }
        })
    $Text -replace '\\([\\`*_{}\[\]()#+\-.!<>|])', '$1'
}

# The paragraphs of a run of nodes, as plain strings (one per MAML para). Code blocks keep their lines.
function ConvertTo-Paragraph {
    param ([AllowEmptyCollection()] [object[]] $Nodes = @())

    foreach ($node in $Nodes) {
        switch ($node.Type) {
            'Code' { $node.Text }
            'Heading' { $node.Text }
            default { ConvertTo-PlainInline $node.Text }
        }
    }
}

function Read-YamlBlock {
    param ([string] $Text, [string] $Context)

    $map = @{}
    foreach ($line in $Text -split "`n") {
        if ($line.Trim() -eq '') { continue }
        if ($line -notmatch '^\s*([^:]+?)\s*:\s*(.*?)\s*$') { throw "${Context}: cannot read yaml line '$line'." }
        $map[$Matches[1]] = $Matches[2]
    }
    $map
}

# Reads one cmdlet's markdown into the model the MAML writer needs.
function Read-CommandHelp {
    param ([Parameter(Mandatory)] [string] $Path)

    $document = Read-MarkdownDocument -Path $Path
    $title = $document.Nodes | Where-Object { $_.Type -eq 'Heading' -and $_.Level -eq 1 } | Select-Object -First 1
    if (-not $title) { throw "${Path}: no '# <Command name>' heading." }
    $name = $title.Text.Trim()
    $sections = Get-MarkdownSection -Document $document
    foreach ($required in 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS') {
        if (-not $sections.Contains($required)) { throw "${Path}: no '## $required' section." }
    }

    $synopsis = @(ConvertTo-Paragraph $sections['SYNOPSIS'])
    if ($synopsis.Count -eq 0) { throw "${Path}: the SYNOPSIS is empty." }

    # Parameter sets: the '### <Set>' headings of SYNTAX ('### Name (Default)' marks the default set); a
    # command with one set has a bare code block and no heading.
    $sets = [System.Collections.Generic.List[string]]::new()
    foreach ($sub in (Split-Subsection $sections['SYNTAX'])) {
        if ($sub.Title) { $sets.Add(($sub.Title -replace '\s*\(Default\)\s*$', '')) }
    }
    if ($sets.Count -eq 0) { $sets.Add($script:AllSets) }

    $parameters = [System.Collections.Generic.List[object]]::new()
    foreach ($sub in (Split-Subsection $sections['PARAMETERS'])) {
        if (-not $sub.Title -or $sub.Title -eq 'CommonParameters') { continue }
        if ($sub.Title -notmatch '^-(\w+)$') { throw "${Path}: parameter heading '### $($sub.Title)' is not '### -Name'." }
        $parameterName = $Matches[1]
        $yaml = @($sub.Nodes | Where-Object { $_.Type -eq 'Code' -and $_.Language -eq 'yaml' })
        if ($yaml.Count -eq 0) { throw "${Path}: parameter -$parameterName has no yaml block." }
        $description = @(ConvertTo-Paragraph @($sub.Nodes | Where-Object { -not ($_.Type -eq 'Code' -and $_.Language -eq 'yaml') }))
        if ($description.Count -eq 0) { throw "${Path}: parameter -$parameterName has no description." }

        # platyPS writes one yaml block per group of sets that share metadata (Required, Position).
        foreach ($block in $yaml) {
            $meta = Read-YamlBlock -Text $block.Text -Context "$Path -$parameterName"
            foreach ($key in 'Type', 'Parameter Sets', 'Required', 'Position', 'Accept pipeline input', 'Accept wildcard characters') {
                if (-not $meta.ContainsKey($key)) { throw "${Path}: parameter -$parameterName has no '$key' in its yaml." }
            }
            $aliases = [string[]] @(if ($meta['Aliases'] -and $meta['Aliases'] -notin 'none', '') { $meta['Aliases'] -split '\s*,\s*' })
            $parameters.Add([pscustomobject] @{
                    Name          = $parameterName
                    Description   = $description
                    Type          = if ($meta['Type'] -eq 'switch') { 'SwitchParameter' } else { $meta['Type'] }
                    Sets          = @($meta['Parameter Sets'] -split '\s*,\s*')
                    Aliases       = $aliases
                    Required      = $meta['Required'] -eq 'True'
                    Position      = if ($meta['Position'] -match '^\d+$') { $meta['Position'] } else { 'named' }
                    DefaultValue  = if ($meta['Default value']) { $meta['Default value'] } else { 'None' }
                    PipelineInput = $meta['Accept pipeline input']
                    Globbing      = $meta['Accept wildcard characters'] -eq 'True'
                })
        }
    }

    $examples = foreach ($sub in (Split-Subsection $sections['EXAMPLES'])) {
        if (-not $sub.Title) { continue }
        $code = @($sub.Nodes | Where-Object Type -EQ 'Code' | ForEach-Object Text)
        if ($code.Count -eq 0) { throw "${Path}: example '$($sub.Title)' has no code block." }
        [pscustomobject] @{
            Title   = $sub.Title
            Code    = $code -join "`n`n"
            Remarks = @(ConvertTo-Paragraph @($sub.Nodes | Where-Object Type -NE 'Code'))
        }
    }

    $typed = {
        param ($SectionName)
        if (-not $sections.Contains($SectionName)) { return }
        foreach ($sub in (Split-Subsection $sections[$SectionName])) {
            if (-not $sub.Title) { continue }
            [pscustomobject] @{ TypeName = $sub.Title; Description = @(ConvertTo-Paragraph $sub.Nodes) }
        }
    }

    $links = [System.Collections.Generic.List[object]]::new()
    if ($document.FrontMatter['online version']) {
        $links.Add([pscustomobject] @{ Text = 'Online Version:'; Uri = $document.FrontMatter['online version'] })
    }
    if ($sections.Contains('RELATED LINKS')) {
        foreach ($node in $sections['RELATED LINKS']) {
            foreach ($m in [regex]::Matches($node.Text, '\[([^\]]+)\]\(([^)]*)\)')) {
                # A link to a sibling .md file means nothing to Get-Help; the name alone is the reference.
                $uri = if ($m.Groups[2].Value -match '^https?://') { $m.Groups[2].Value } else { '' }
                $links.Add([pscustomobject] @{ Text = $m.Groups[1].Value; Uri = $uri })
            }
        }
    }

    [pscustomobject] @{
        Name        = $name
        Synopsis    = $synopsis
        Description = @(ConvertTo-Paragraph $sections['DESCRIPTION'])
        Sets        = $sets
        Parameters  = $parameters
        Inputs      = @(& $typed 'INPUTS')
        Outputs     = @(& $typed 'OUTPUTS')
        Notes       = if ($sections.Contains('NOTES')) { @(ConvertTo-Paragraph $sections['NOTES']) } else { @() }
        Examples    = @($examples)
        Links       = $links
        HelpFile    = $document.FrontMatter['external help file']
    }
}

#endregion

#region MAML writing

function Write-Para {
    param ([System.Xml.XmlWriter] $Writer, [AllowEmptyCollection()] [string[]] $Paragraphs = @())

    foreach ($para in $Paragraphs) { $Writer.WriteElementString('maml', 'para', $script:NsMaml, $para) }
}

function Write-MamlDescription {
    param ([System.Xml.XmlWriter] $Writer, [AllowEmptyCollection()] [string[]] $Paragraphs = @())

    $Writer.WriteStartElement('maml', 'description', $script:NsMaml)
    Write-Para $Writer $Paragraphs
    $Writer.WriteEndElement()
}

function Write-MamlParameter {
    param ([System.Xml.XmlWriter] $Writer, $Parameter, [bool] $InSyntax)

    $Writer.WriteStartElement('command', 'parameter', $script:NsCommand)
    $Writer.WriteAttributeString('required', $Parameter.Required.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', 'true')
    $Writer.WriteAttributeString('globbing', $Parameter.Globbing.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', $Parameter.PipelineInput)
    $Writer.WriteAttributeString('position', $Parameter.Position)
    $Writer.WriteAttributeString('aliases', $(if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'none' }))
    $Writer.WriteElementString('maml', 'name', $script:NsMaml, $Parameter.Name)
    Write-MamlDescription $Writer $Parameter.Description
    # As platyPS does: a switch shows no value placeholder in the syntax.
    if (-not ($InSyntax -and $Parameter.Type -eq 'SwitchParameter')) {
        $Writer.WriteStartElement('command', 'parameterValue', $script:NsCommand)
        $Writer.WriteAttributeString('required', $(if ($Parameter.Type -eq 'SwitchParameter') { 'false' } else { 'true' }))
        $Writer.WriteAttributeString('variableLength', 'false')
        $Writer.WriteString($Parameter.Type)
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('dev', 'type', $script:NsDev)
    $Writer.WriteElementString('maml', 'name', $script:NsMaml, $Parameter.Type)
    $Writer.WriteElementString('maml', 'uri', $script:NsMaml, '')
    $Writer.WriteEndElement()
    $Writer.WriteElementString('dev', 'defaultValue', $script:NsDev, $Parameter.DefaultValue)
    $Writer.WriteEndElement()
}

# The order Get-Command -Syntax uses: positional parameters by position, then the rest as documented.
function Get-SyntaxOrder {
    param ([object[]] $Parameters)

    $positional = @($Parameters | Where-Object Position -NE 'named' | Sort-Object { [int] $_.Position })
    $named = @($Parameters | Where-Object Position -EQ 'named')
    @($positional) + @($named | Where-Object Required) + @($named | Where-Object { -not $_.Required })
}

function Write-MamlCommand {
    param ([System.Xml.XmlWriter] $Writer, $Command)

    $Writer.WriteStartElement('command', 'command', $script:NsCommand)
    $Writer.WriteAttributeString('xmlns', 'maml', $null, $script:NsMaml)
    $Writer.WriteAttributeString('xmlns', 'command', $null, $script:NsCommand)
    $Writer.WriteAttributeString('xmlns', 'dev', $null, $script:NsDev)
    $Writer.WriteAttributeString('xmlns', 'MSHelp', $null, $script:NsMSHelp)

    $verb, $noun = $Command.Name -split '-', 2
    $Writer.WriteStartElement('command', 'details', $script:NsCommand)
    $Writer.WriteElementString('command', 'name', $script:NsCommand, $Command.Name)
    $Writer.WriteElementString('command', 'verb', $script:NsCommand, $verb)
    $Writer.WriteElementString('command', 'noun', $script:NsCommand, [string] $noun)
    Write-MamlDescription $Writer $Command.Synopsis
    $Writer.WriteEndElement()

    Write-MamlDescription $Writer $Command.Description

    $Writer.WriteStartElement('command', 'syntax', $script:NsCommand)
    foreach ($set in $Command.Sets) {
        $members = @($Command.Parameters | Where-Object { $_.Sets -contains $script:AllSets -or $_.Sets -contains $set })
        $Writer.WriteStartElement('command', 'syntaxItem', $script:NsCommand)
        $Writer.WriteElementString('maml', 'name', $script:NsMaml, $Command.Name)
        foreach ($parameter in (Get-SyntaxOrder $members)) { Write-MamlParameter $Writer $parameter $true }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    # One entry per parameter; where sets disagree (Required, Position), the first yaml block speaks.
    $Writer.WriteStartElement('command', 'parameters', $script:NsCommand)
    $seen = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
    foreach ($parameter in $Command.Parameters) {
        if ($seen.Add($parameter.Name)) { Write-MamlParameter $Writer $parameter $false }
    }
    $Writer.WriteEndElement()

    foreach ($kind in @(@('inputTypes', 'inputType', $Command.Inputs), @('returnValues', 'returnValue', $Command.Outputs))) {
        $Writer.WriteStartElement('command', $kind[0], $script:NsCommand)
        foreach ($item in $kind[2]) {
            $Writer.WriteStartElement('command', $kind[1], $script:NsCommand)
            $Writer.WriteStartElement('dev', 'type', $script:NsDev)
            $Writer.WriteElementString('maml', 'name', $script:NsMaml, $item.TypeName)
            $Writer.WriteEndElement()
            Write-MamlDescription $Writer $item.Description
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }

    $Writer.WriteStartElement('maml', 'alertSet', $script:NsMaml)
    $Writer.WriteStartElement('maml', 'alert', $script:NsMaml)
    Write-Para $Writer $Command.Notes
    $Writer.WriteEndElement()
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'examples', $script:NsCommand)
    foreach ($example in $Command.Examples) {
        $Writer.WriteStartElement('command', 'example', $script:NsCommand)
        $Writer.WriteElementString('maml', 'title', $script:NsMaml, "---------- $($example.Title) ----------")
        $Writer.WriteElementString('dev', 'code', $script:NsDev, $example.Code)
        $Writer.WriteStartElement('dev', 'remarks', $script:NsDev)
        Write-Para $Writer $example.Remarks
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'relatedLinks', $script:NsCommand)
    foreach ($link in $Command.Links) {
        $Writer.WriteStartElement('maml', 'navigationLink', $script:NsMaml)
        $Writer.WriteElementString('maml', 'linkText', $script:NsMaml, $link.Text)
        $Writer.WriteElementString('maml', 'uri', $script:NsMaml, $link.Uri)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteEndElement()
}

function Write-MamlFile {
    param ([string] $Path, [object[]] $Commands)

    $settings = [System.Xml.XmlWriterSettings]::new()
    $settings.Indent = $true
    $settings.IndentChars = '  '
    $settings.Encoding = [System.Text.UTF8Encoding]::new($false)
    $settings.NewLineChars = "`n"
    $writer = [System.Xml.XmlWriter]::Create($Path, $settings)
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems')
        $writer.WriteAttributeString('schema', 'maml')
        foreach ($command in $Commands) { Write-MamlCommand $writer $command }
        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    }
    finally {
        $writer.Dispose()
    }
}

#endregion

#region About topics

function Format-Wrapped {
    param ([string] $Text, [string] $Indent, [string] $HangingIndent = $Indent, [int] $Width = 80)

    $line = $Indent
    $lineHasWord = $false
    foreach ($word in ($Text -split '\s+' | Where-Object { $_ })) {
        if ($lineHasWord -and $line.Length + 1 + $word.Length -gt $Width) {
            $line
            $line = $HangingIndent + $word
        }
        else {
            $line += $(if ($lineHasWord) { ' ' } else { '' }) + $word
        }
        $lineHasWord = $true
    }
    if ($lineHasWord) { $line }
}

# The plain-text about topic: 'TOPIC' and the topic name first, '## ' headings upper-case at the margin,
# text indented four spaces and wrapped at 80 columns, code indented as written.
function ConvertTo-AboutText {
    param ([Parameter(Mandatory)] [string] $Path)

    $document = Read-MarkdownDocument -Path $Path
    $out = [System.Collections.Generic.List[string]]::new()
    $sawTitle = $false
    $previousType = $null
    foreach ($node in $document.Nodes) {
        # A list ends with its last item; a blank line separates it from whatever follows.
        if ($previousType -eq 'ListItem' -and $node.Type -ne 'ListItem') { $out.Add('') }
        $previousType = $node.Type
        switch ($node.Type) {
            'Heading' {
                if (-not $sawTitle -and $node.Level -eq 1) {
                    $out.Add('TOPIC'); $out.Add('    ' + $node.Text.Trim().ToLowerInvariant()); $out.Add('')
                    $sawTitle = $true
                }
                elseif ($node.Level -le 2) { $out.Add($node.Text.Trim().ToUpperInvariant()) }
                else { $out.Add('  ' + $node.Text.Trim().ToUpperInvariant()) }
            }
            'Code' {
                foreach ($codeLine in $node.Text -split "`n") { $out.Add(('    ' + $codeLine).TrimEnd()) }
                $out.Add('')
            }
            'Table' {
                foreach ($row in $node.Text -split "`n") {
                    if ($row -match '^\|[\s:|-]+\|$') { continue }
                    $out.Add('    ' + (($row.Trim('|') -split '\|' | ForEach-Object Trim) -join '  |  '))
                }
                $out.Add('')
            }
            'ListItem' {
                $item = ConvertTo-PlainInline $node.Text
                $bullet = if ($item -match '^(\d+[.)]|[-*+])\s+') { $Matches[0] } else { '' }
                $item = $item.Substring($bullet.Length)
                $marker = if ($bullet -match '^\d') { $bullet.Trim() + ' ' } else { '- ' }
                foreach ($l in (Format-Wrapped $item ('    ' + $marker) (' ' * (4 + $marker.Length)))) { $out.Add($l) }
            }
            default {
                foreach ($l in (Format-Wrapped (ConvertTo-PlainInline $node.Text) '    ')) { $out.Add($l) }
                $out.Add('')
            }
        }
    }
    if (-not $sawTitle) { throw "${Path}: no '# about_<Name>' heading." }
    ($out -join "`n").TrimEnd() + "`n"
}

#endregion

<#
.SYNOPSIS
Converts a folder of platyPS markdown into MAML and about_*.help.txt.
#>
function ConvertTo-ExternalHelp {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory)] [string] $SourcePath,
        [Parameter(Mandatory)] [string] $DestinationPath
    )

    # Module functions do not see the caller's preference; any error here must stop the build.
    $ErrorActionPreference = 'Stop'
    $null = New-Item -ItemType Directory -Path $DestinationPath -Force
    $files = Get-ChildItem -LiteralPath $SourcePath -Filter '*.md' -File | Sort-Object Name

    $byHelpFile = [ordered] @{}
    foreach ($file in $files | Where-Object Name -NotLike 'about_*') {
        $command = Read-CommandHelp -Path $file.FullName
        if (-not $command.HelpFile) { throw "$($file.FullName): no 'external help file' in the front matter." }
        if (-not $byHelpFile.Contains($command.HelpFile)) { $byHelpFile[$command.HelpFile] = [System.Collections.Generic.List[object]]::new() }
        $byHelpFile[$command.HelpFile].Add($command)
    }
    foreach ($helpFile in $byHelpFile.Keys) {
        $target = Join-Path $DestinationPath $helpFile
        Write-MamlFile -Path $target -Commands $byHelpFile[$helpFile]
        Write-Verbose "Wrote $target ($($byHelpFile[$helpFile].Count) commands)."
    }

    foreach ($file in $files | Where-Object Name -Like 'about_*') {
        $target = Join-Path $DestinationPath ([System.IO.Path]::ChangeExtension($file.Name, '.help.txt'))
        [System.IO.File]::WriteAllText($target, (ConvertTo-AboutText -Path $file.FullName), [System.Text.UTF8Encoding]::new($false))
        Write-Verbose "Wrote $target."
    }
}

Export-ModuleMember -Function ConvertTo-ExternalHelp, Read-CommandHelp, ConvertTo-AboutText
