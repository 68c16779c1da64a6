# Reads platyPS-schema markdown (docs/en-US) with Markdig, the parser pwsh ships (Markdig.Signed, behind
# ConvertFrom-Markdown; a build-time tool, never in the module): the nodes of a document, its '## ' sections, the
# problems that keep it from platyPS's schema, and the model of a command's help that tools/HelpConverter.psm1
# writes as MAML.

Set-StrictMode -Version Latest

$script:AllSets = '(All)'

#region Markdown reading (Markdig)

$null = [System.Reflection.Assembly]::Load('Markdig.Signed')
$script:Pipeline = [Markdig.MarkdownExtensions]::UsePipeTables(
    [Markdig.MarkdownExtensions]::UseYamlFrontMatter([Markdig.MarkdownPipelineBuilder]::new())).Build()

# Inline markdown as plain text, as platyPS keeps it in MAML: code spans and emphasis as written, a link as
# 'text (url)' (the text alone when it is the url), escapes and line breaks resolved.
function ConvertTo-InlineText {
    param ([Parameter(Mandatory)] [Markdig.Syntax.Inlines.ContainerInline] $Container)

    $text = [System.Text.StringBuilder]::new()
    # Inlines are enumerable (their children): compared with $null, never unrolled into a pipeline.
    for ($node = $Container.FirstChild; $null -ne $node; $node = $node.NextSibling) {
        $part = if ($node -is [Markdig.Syntax.Inlines.CodeInline]) {
            $fence = [string]::new($node.Delimiter, $node.DelimiterCount)
            # As written: a span that starts or ends with a backtick was padded with a space on each side.
            $code = if ($node.Content -match '^`|`$') { " $($node.Content) " } else { $node.Content }
            "$fence$code$fence"
        }
        elseif ($node -is [Markdig.Syntax.Inlines.LinkInline]) {
            $label = ConvertTo-InlineText $node
            if ($label -eq $node.Url) { $label } else { "$label ($($node.Url))" }
        }
        elseif ($node -is [Markdig.Syntax.Inlines.EmphasisInline]) {
            $mark = [string]::new($node.DelimiterChar, $node.DelimiterCount)
            "$mark$(ConvertTo-InlineText $node)$mark"
        }
        elseif ($node -is [Markdig.Syntax.Inlines.AutolinkInline]) { $node.Url }
        elseif ($node -is [Markdig.Syntax.Inlines.LineBreakInline]) { ' ' }
        elseif ($node -is [Markdig.Syntax.Inlines.HtmlInline]) { $node.Tag }
        elseif ($node -is [Markdig.Syntax.Inlines.HtmlEntityInline]) { $node.Original.ToString() }
        elseif ($node -is [Markdig.Syntax.Inlines.ContainerInline]) { ConvertTo-InlineText $node }
        else { $node.ToString() }
        $null = $text.Append($part)
    }
    $text.ToString().Trim()
}

# The links of inline markdown: @{ Text; Url } each.
function Get-InlineLink {
    param ([Parameter(Mandatory)] [Markdig.Syntax.Inlines.ContainerInline] $Container)

    for ($node = $Container.FirstChild; $null -ne $node; $node = $node.NextSibling) {
        if ($node -is [Markdig.Syntax.Inlines.LinkInline]) { [pscustomobject] @{ Text = ConvertTo-InlineText $node; Url = $node.Url } }
        elseif ($node -is [Markdig.Syntax.Inlines.ContainerInline]) { Get-InlineLink $node }
    }
}

function New-MarkdownNode([string] $Type, [string] $Text, [int] $Level = 0, [string] $Language = $null, [object[]] $Rows = @(), [object[]] $Links = @()) {
    [pscustomobject] @{ Type = $Type; Level = $Level; Text = $Text; Language = $Language; Rows = $Rows; Links = $Links }
}

# The blocks of a document (or of a list item) as a flat list of Heading, Paragraph, ListItem ('- text',
# '1. text'), Table and Code nodes, in order. Anything else is not in platyPS's schema and stops the build.
function ConvertTo-MarkdownNode {
    param ([Markdig.Syntax.ContainerBlock] $Container, [string] $Path)

    foreach ($block in $Container) {
        if ($block -is [Markdig.Extensions.Yaml.YamlFrontMatterBlock]) { continue }
        if ($block -is [Markdig.Syntax.HeadingBlock]) { New-MarkdownNode Heading (ConvertTo-InlineText $block.Inline) -Level $block.Level }
        elseif ($block -is [Markdig.Syntax.ParagraphBlock]) {
            New-MarkdownNode Paragraph (ConvertTo-InlineText $block.Inline) -Links @(Get-InlineLink $block.Inline)
        }
        elseif ($block -is [Markdig.Syntax.FencedCodeBlock]) { New-MarkdownNode Code $block.Lines.ToString() -Language $block.Info }
        elseif ($block -is [Markdig.Syntax.ListBlock]) {
            foreach ($item in $block) {
                $marker = if ($block.IsOrdered) { "$($item.Order)$($block.OrderedDelimiter)" } else { "$($block.BulletType)" }
                $first = $true
                foreach ($node in (ConvertTo-MarkdownNode $item $Path)) {
                    if ($first -and $node.Type -eq 'Paragraph') { $node.Type = 'ListItem'; $node.Text = "$marker $($node.Text)" }
                    $first = $false
                    $node
                }
            }
        }
        elseif ($block -is [Markdig.Extensions.Tables.Table]) {
            $rows = foreach ($row in $block) { , @(foreach ($cell in $row) { (ConvertTo-MarkdownNode $cell $Path).Text -join ' ' }) }
            New-MarkdownNode Table -Rows $rows
        }
        else { throw "${Path}:$($block.Line + 1): a $($block.GetType().Name) is not part of platyPS's schema." }
    }
}

# The flat 'key: value' yaml platyPS writes (front matter, parameter metadata).
function Read-YamlBlock {
    param ([string] $Text, [string] $Context)

    $map = @{}
    foreach ($line in $Text -split '\r?\n') {
        if ($line.Trim() -eq '') { continue }
        if ($line -notmatch '^\s*([^:]+?)\s*:\s*(.*?)\s*$') { throw "${Context}: cannot read yaml line '$line'." }
        $map[$Matches[1]] = $Matches[2]
    }
    $map
}

# A document's front matter (its flat 'key: value' lines) and its nodes.
function Read-MarkdownDocument {
    param ([Parameter(Mandatory)] [string] $Path)

    $text = Get-Content -LiteralPath $Path -Raw -Encoding utf8
    $document = [Markdig.Markdown]::Parse($text, $script:Pipeline)
    $yaml = $document | Where-Object { $_ -is [Markdig.Extensions.Yaml.YamlFrontMatterBlock] } | Select-Object -First 1
    $frontMatter = if ($yaml) { Read-YamlBlock -Text $yaml.Lines.ToString() -Context "$Path front matter" } else { @{} }
    [pscustomobject] @{ Path = $Path; FrontMatter = $frontMatter; Nodes = @(ConvertTo-MarkdownNode $document $Path) }
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

# The paragraphs of a run of nodes, as plain strings (one per MAML para). Code blocks keep their lines.
function ConvertTo-Paragraph {
    param ([AllowEmptyCollection()] [object[]] $Nodes = @())

    foreach ($node in $Nodes) {
        switch ($node.Type) {
            'Table' { ($node.Rows | ForEach-Object { $_ -join ' | ' }) -join "`n" }
            default { $node.Text }
        }
    }
}

#endregion

#region platyPS schema

# The sections platyPS 0.14 writes for a command, in its order ('## <name>'); all of them are required.
$script:CommandSections = 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS'
$script:FrontMatterKeys = 'external help file', 'Module Name', 'online version', 'schema'
$script:ParameterKeys = 'Type', 'Parameter Sets', 'Aliases', 'Required', 'Position', 'Default value', 'Accept pipeline input',
'Accept wildcard characters'

# What keeps a document from being read as platyPS's schema (2.0.0 for commands; its about topic layout), as
# messages naming the file; nothing when it is sound. Read-CommandHelp and ConvertTo-AboutText refuse such a
# document, and tools/Build-Help.ps1 checks every document before either converter runs.
function Get-HelpSchemaProblem {
    [CmdletBinding()]
    [OutputType([string])]
    param ([Parameter(Mandatory)] [string] $Path)

    $name = [System.IO.Path]::GetFileNameWithoutExtension($Path)
    try { $document = Read-MarkdownDocument -Path $Path }
    catch { return "$_" }
    $headings = @($document.Nodes | Where-Object Type -EQ 'Heading')
    $first = $headings | Select-Object -First 1
    if (-not $first -or $first.Level -ne 1 -or $first.Text -ne $name) { "${Path}: the first heading is not '# $name'." }

    if ($name -like 'about_*') {
        # An about topic: '# about_Name', then SHORT DESCRIPTION and LONG DESCRIPTION (as '#' or '##' headings).
        $titles = @($headings | Where-Object Level -LE 2 | ForEach-Object { $_.Text.ToUpperInvariant() })
        $short = [array]::IndexOf($titles, 'SHORT DESCRIPTION')
        $long = [array]::IndexOf($titles, 'LONG DESCRIPTION')
        if ($short -lt 0) { "${Path}: no 'SHORT DESCRIPTION' heading." }
        if ($long -lt 0) { "${Path}: no 'LONG DESCRIPTION' heading." }
        if ($short -ge 0 -and $long -ge 0 -and $long -lt $short) { "${Path}: LONG DESCRIPTION comes before SHORT DESCRIPTION." }
        return
    }

    foreach ($key in $script:FrontMatterKeys) {
        if (-not $document.FrontMatter.Contains($key)) { "${Path}: the front matter has no '$key'." }
    }
    if ($document.FrontMatter.Contains('schema') -and $document.FrontMatter['schema'] -ne '2.0.0') { "${Path}: the schema is not 2.0.0." }
    if (@($headings | Where-Object Level -EQ 1).Count -ne 1) { "${Path}: more than one '# ' heading." }
    $found = @($headings | Where-Object Level -EQ 2 | ForEach-Object Text)
    if (($found -join '|') -cne ($script:CommandSections -join '|')) {
        "${Path}: the '## ' sections are '$($found -join "', '")'; platyPS's schema has '$($script:CommandSections -join "', '")' in that order."
        return
    }

    $sections = Get-MarkdownSection -Document $document
    if (@($sections['SYNOPSIS'] | Where-Object Type -EQ 'Paragraph').Count -eq 0) { "${Path}: the SYNOPSIS is empty." }
    if (@($sections['DESCRIPTION']).Count -eq 0) { "${Path}: the DESCRIPTION is empty." }
    foreach ($sub in (Split-Subsection $sections['SYNTAX'])) {
        if (-not @($sub.Nodes | Where-Object Type -EQ 'Code')) { "${Path}: the syntax '$($sub.Title)' has no code block." }
    }
    $examples = @((Split-Subsection $sections['EXAMPLES']) | Where-Object Title)
    if ($examples.Count -eq 0) { "${Path}: EXAMPLES has no '### ' example." }
    foreach ($sub in $examples) {
        if (-not @($sub.Nodes | Where-Object Type -EQ 'Code')) { "${Path}: example '$($sub.Title)' has no code block." }
    }
    foreach ($sub in (Split-Subsection $sections['PARAMETERS'])) {
        if ($sub.Title -eq 'CommonParameters') { continue }
        if ($sub.Title -notmatch '^-\w+$') { "${Path}: parameter heading '### $($sub.Title)' is not '### -Name'."; continue }
        $yaml = @($sub.Nodes | Where-Object { $_.Type -eq 'Code' -and $_.Language -eq 'yaml' })
        if ($yaml.Count -eq 0) { "${Path}: parameter $($sub.Title) has no yaml block." }
        if (-not @($sub.Nodes | Where-Object Type -NE 'Code')) { "${Path}: parameter $($sub.Title) has no description." }
        foreach ($block in $yaml) {
            try { $meta = Read-YamlBlock -Text $block.Text -Context "$Path $($sub.Title)" }
            catch { "$_"; continue }
            foreach ($key in $script:ParameterKeys) {
                if (-not $meta.Contains($key)) { "${Path}: parameter $($sub.Title) has no '$key' in its yaml." }
            }
        }
    }
    foreach ($section in 'INPUTS', 'OUTPUTS') {
        if (-not @((Split-Subsection $sections[$section]) | Where-Object Title)) { "${Path}: $section has no '### <type>' entry (platyPS writes '### None')." }
    }
}

function Assert-HelpSchema([string] $Path) {
    $problems = @(Get-HelpSchemaProblem -Path $Path)
    if ($problems) { throw ($problems -join [Environment]::NewLine) }
}

#endregion

#region Help model

# Reads one cmdlet's markdown into the model the MAML writer needs.
function Read-CommandHelp {
    param ([Parameter(Mandatory)] [string] $Path)

    Assert-HelpSchema -Path $Path
    $document = Read-MarkdownDocument -Path $Path
    $sections = Get-MarkdownSection -Document $document

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
        $parameterName = $sub.Title.Substring(1)
        $yaml = @($sub.Nodes | Where-Object { $_.Type -eq 'Code' -and $_.Language -eq 'yaml' })
        $description = @(ConvertTo-Paragraph @($sub.Nodes | Where-Object { -not ($_.Type -eq 'Code' -and $_.Language -eq 'yaml') }))

        # platyPS writes one yaml block per group of sets that share metadata (Required, Position).
        foreach ($block in $yaml) {
            $meta = Read-YamlBlock -Text $block.Text -Context "$Path -$parameterName"
            $aliases = [string[]] @(if ($meta['Aliases'] -and $meta['Aliases'] -notin 'none', '') { $meta['Aliases'] -split '\s*,\s*' })
            $parameters.Add([pscustomobject] @{
                    Name          = $parameterName
                    Description   = $description
                    Type          = if ($meta['Type'] -eq 'switch') { 'SwitchParameter' } else { $meta['Type'] }
                    # '(All)' is spelled out, so that the writer only asks whether a set is in the list.
                    Sets          = $(if ($meta['Parameter Sets'] -eq $script:AllSets) { @($sets) } else { @($meta['Parameter Sets'] -split '\s*,\s*') })
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
        [pscustomobject] @{
            Title   = $sub.Title
            Code    = $code -join "`n`n"
            Remarks = @(ConvertTo-Paragraph @($sub.Nodes | Where-Object Type -NE 'Code'))
        }
    }

    $typed = {
        param ($SectionName)
        foreach ($sub in (Split-Subsection $sections[$SectionName])) {
            if (-not $sub.Title) { continue }
            [pscustomobject] @{ TypeName = $sub.Title; Description = @(ConvertTo-Paragraph $sub.Nodes) }
        }
    }

    $links = [System.Collections.Generic.List[object]]::new()
    if ($document.FrontMatter['online version']) {
        $links.Add([pscustomobject] @{ Text = 'Online Version:'; Uri = $document.FrontMatter['online version'] })
    }
    foreach ($link in @($sections['RELATED LINKS'] | ForEach-Object { $_.Links })) {
        # A link to a sibling .md file means nothing to Get-Help; the name alone is the reference.
        $links.Add([pscustomobject] @{ Text = $link.Text; Uri = $(if ($link.Url -match '^https?://') { $link.Url } else { '' }) })
    }

    [pscustomobject] @{
        Name        = [System.IO.Path]::GetFileNameWithoutExtension($Path)
        Synopsis    = @(ConvertTo-Paragraph $sections['SYNOPSIS'])
        Description = @(ConvertTo-Paragraph $sections['DESCRIPTION'])
        Sets        = $sets
        Parameters  = $parameters
        Inputs      = @(& $typed 'INPUTS')
        Outputs     = @(& $typed 'OUTPUTS')
        Notes       = @(ConvertTo-Paragraph $sections['NOTES'])
        Examples    = @($examples)
        Links       = $links
        HelpFile    = $document.FrontMatter['external help file']
    }
}

#endregion

Export-ModuleMember -Function Read-MarkdownDocument, Read-CommandHelp, Get-HelpSchemaProblem, Assert-HelpSchema
