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

Import-Module (Join-Path $PSScriptRoot 'HelpMarkdown.psm1')

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
        $members = @($Command.Parameters | Where-Object { $_.Sets -contains $set })
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

    Assert-HelpSchema -Path $Path
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
                foreach ($row in $node.Rows) { $out.Add('    ' + ($row -join '  |  ')) }
                $out.Add('')
            }
            'ListItem' {
                $item = $node.Text
                $bullet = if ($item -match '^(\d+[.)]|[-*+])\s+') { $Matches[0] } else { '' }
                $item = $item.Substring($bullet.Length)
                $marker = if ($bullet -match '^\d') { $bullet.Trim() + ' ' } else { '- ' }
                foreach ($l in (Format-Wrapped $item ('    ' + $marker) (' ' * (4 + $marker.Length)))) { $out.Add($l) }
            }
            default {
                foreach ($l in (Format-Wrapped $node.Text '    ')) { $out.Add($l) }
                $out.Add('')
            }
        }
    }
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

Export-ModuleMember -Function ConvertTo-ExternalHelp
