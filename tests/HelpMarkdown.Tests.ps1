# docs/en-US is written in platyPS's markdown schema: the build checks every document against it
# (tools/HelpMarkdown.psm1) and turns it into help with platyPS's New-ExternalHelp where platyPS is installed,
# or with tools/HelpConverter.psm1. Tests/Help.Tests.ps1 checks what Get-Help shows of the result.

BeforeDiscovery {
    $documents = @(Get-ChildItem -Path (Join-Path $PSScriptRoot '..' 'docs' 'en-US') -Filter '*.md' -File |
            ForEach-Object { @{ Name = $_.Name; Path = $_.FullName } })
}

BeforeAll {
    $script:Tools = Join-Path $PSScriptRoot '..' 'tools'
    $script:Docs = Join-Path $PSScriptRoot '..' 'docs' 'en-US'
    Import-Module (Join-Path $Tools 'HelpMarkdown.psm1') -Force
    Import-Module (Join-Path $Tools 'HelpConverter.psm1') -Force

    # A copy of a real document with one change, for the checks that must find a problem.
    function New-BrokenDocument {
        param ([string] $Source, [string] $Pattern, [string] $Replacement)
        $text = Get-Content -LiteralPath (Join-Path $Docs $Source) -Raw
        $text -match $Pattern | Should -BeTrue -Because "the case needs '$Pattern' in $Source"
        $folder = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Path $folder
        $path = Join-Path $folder $Source
        Set-Content -LiteralPath $path -Value ([regex]::Replace($text, $Pattern, $Replacement)) -NoNewline
        $path
    }
}

Describe 'docs/en-US/<Name>' -ForEach $documents {
    It "follows platyPS's schema" {
        Get-HelpSchemaProblem -Path $Path | Should -BeNullOrEmpty
    }
}

Describe "the schema check" {
    It 'finds <Scenario>' -TestCases @(
        @{ Scenario = 'a missing ## OUTPUTS section'; Source = 'Test-MemStack.md'; Pattern = '(?m)^## OUTPUTS\r?\n'; Replacement = ''; Expected = "platyPS's schema has" }
        @{ Scenario = 'a section platyPS does not know'; Source = 'Test-MemStack.md'; Pattern = '(?m)^## SYNOPSIS$'; Replacement = '## SUMMARY'; Expected = 'sections are' }
        @{ Scenario = 'front matter without schema'; Source = 'Test-MemStack.md'; Pattern = '(?m)^schema: 2\.0\.0\r?\n'; Replacement = ''; Expected = "front matter has no 'schema'" }
        @{ Scenario = 'a title that is not the command'; Source = 'Test-MemStack.md'; Pattern = '(?m)^# Test-MemStack$'; Replacement = '# Test-Stack'; Expected = "first heading is not '# Test-MemStack'" }
        @{ Scenario = 'a parameter heading without its dash'; Source = 'Test-MemStack.md'; Pattern = '(?m)^### -Store$'; Replacement = '### Store'; Expected = "is not '### -Name'" }
        @{ Scenario = 'parameter yaml without Position'; Source = 'Test-MemStack.md'; Pattern = '(?m)^Position: 0\r?\n'; Replacement = ''; Expected = "has no 'Position' in its yaml" }
        @{ Scenario = 'a parameter without yaml'; Source = 'Test-MemStack.md'; Pattern = '```yaml'; Replacement = '```text'; Expected = 'has no yaml block' }
        @{ Scenario = 'an example without code'; Source = 'Test-MemStack.md'; Pattern = '(?s)(### Example 1[^\n]*\n)```powershell.*?```'; Replacement = '$1Text only.'; Expected = 'has no code block' }
        @{ Scenario = 'OUTPUTS without a type'; Source = 'Test-MemStack.md'; Pattern = '(?m)^### System\.Boolean$'; Replacement = 'System.Boolean'; Expected = "OUTPUTS has no '### <type>'" }
        @{ Scenario = 'an about topic without SHORT DESCRIPTION'; Source = 'about_Memalloc.md'; Pattern = 'SHORT DESCRIPTION'; Replacement = 'SUMMARY'; Expected = "no 'SHORT DESCRIPTION'" }
        @{ Scenario = 'an about topic titled after another file'; Source = 'about_Memalloc.md'; Pattern = '(?m)^# about_Memalloc$'; Replacement = '# about_Other'; Expected = "first heading is not '# about_Memalloc'" }
    ) {
        $path = New-BrokenDocument -Source $Source -Pattern $Pattern -Replacement $Replacement
        (Get-HelpSchemaProblem -Path $path) -join "`n" | Should -BeLike "*$Expected*"
    }

    It 'stops the help build at a document that breaks the schema' {
        $path = New-BrokenDocument -Source 'Test-MemStack.md' -Pattern '(?m)^## NOTES\r?\n' -Replacement ''
        { & (Join-Path $Tools 'Build-Help.ps1') -SourcePath (Split-Path $path) -DestinationPath (Join-Path $TestDrive 'out') } |
            Should -Throw "*platyPS's schema*"
    }
}

Describe "platyPS's New-ExternalHelp" {
    It 'builds the same commands, parameters and examples as tools/HelpConverter.psm1' {
        # Pester runs with a PSModulePath of out/ and pwsh's own modules: look where Install-Module puts platyPS too.
        $saved = $env:PSModulePath
        $env:PSModulePath = @($saved, (Join-Path ([Environment]::GetFolderPath('LocalApplicationData')) 'powershell' 'Modules'),
            '/usr/local/share/powershell/Modules') -join [System.IO.Path]::PathSeparator
        try {
            if (-not (Get-Module -ListAvailable -Name platyPS)) {
                Set-ItResult -Skipped -Because 'platyPS is not installed (it is not in the NuGet registry these machines reach); Install-Module platyPS runs this test'
                return
            }
            & (Join-Path $Tools 'Build-Help.ps1') -SourcePath $Docs -DestinationPath (Join-Path $TestDrive 'platyPS')
        }
        finally { $env:PSModulePath = $saved }
        ConvertTo-ExternalHelp -SourcePath $Docs -DestinationPath (Join-Path $TestDrive 'converter')

        $summary = {
            param ($Folder)
            [xml] $maml = Get-Content -LiteralPath (Join-Path $Folder 'Memalloc.dll-Help.xml') -Raw
            foreach ($command in $maml.helpItems.command) {
                '{0} | {1} | {2} | {3} examples' -f $command.details.name, ($command.details.description.para -join ' ').Trim(),
                    (@($command.parameters.parameter.name) -join ','), @($command.examples.example).Count
            }
        }
        & $summary (Join-Path $TestDrive 'platyPS') | Should -Be @(& $summary (Join-Path $TestDrive 'converter'))
        Join-Path $TestDrive 'platyPS' 'about_Memalloc.help.txt' | Should -Exist
    }
}
