# Help of the built module: every cmdlet's Get-Help -Full shows written help (not the syntax PowerShell makes
# up when there is none), and documents exactly the parameters the cmdlet has, with the metadata it has.
# Comparing against Get-Command is what catches docs/en-US drifting from the code.

BeforeDiscovery {
    $commandNames = @(
        'Set-MemStack'
        'Get-MemStack'
        'Remove-MemStack'
        'Test-MemStack'
        'Get-MemStackInfo'
        'Update-MemStack'
        'Get-MemStore'
        'Remove-MemStore'
        'Test-MemStore'
        'Register-MemStore'
        'Unregister-MemStore'
        'Wait-MemStack'
        'Use-MemLock'
        'Get-MemLock'
        'Send-MemQueue'
        'Receive-MemQueue'
        'Export-MemStore'
        'Import-MemStore'
    )
}

BeforeAll {
    # build.ps1 runs Pester with PSModulePath starting at out/, so this is the built module and its en-US help.
    Import-Module Memalloc -ErrorAction Stop
    $script:CommonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters

    function Get-HelpText {
        param ($Paragraphs)
        (@($Paragraphs) | Where-Object { $_ } | ForEach-Object { $_.Text }) -join "`n"
    }
}

Describe 'the module ships its help' {
    It 'has Memalloc.dll-Help.xml and about_Memalloc.help.txt in en-US' {
        $helpFolder = Join-Path (Get-Module Memalloc).ModuleBase 'en-US'
        Join-Path $helpFolder 'Memalloc.dll-Help.xml' | Should -Exist
        Join-Path $helpFolder 'about_Memalloc.help.txt' | Should -Exist
    }

    It 'exports only cmdlets that this file checks' {
        $exported = @((Get-Module Memalloc).ExportedCmdlets.Keys | Sort-Object)
        $exported | Should -Be @($commandNames | Sort-Object) -Because 'a new cmdlet needs help and a place in this test'
    } -TestCases @{ commandNames = $commandNames }
}

Describe 'Get-Help <_> -Full' -ForEach $commandNames {
    BeforeAll {
        $commandName = $_
        $command = Get-Command -Name $commandName -Module Memalloc -ErrorAction Stop
        $help = Get-Help -Name $commandName -Full
        $codeParameters = @($command.Parameters.Keys | Where-Object { $_ -notin $CommonParameters } | Sort-Object)
        $helpParameters = @($help.parameters.parameter | Where-Object { $_ } | ForEach-Object name | Sort-Object)
    }

    It 'has a synopsis written for it' {
        $synopsis = [string] $help.Synopsis
        $synopsis.Trim() | Should -Not -BeNullOrEmpty
        # Without MAML, PowerShell puts the syntax ('Set-MemStack [-Name] <string> ...') in the synopsis.
        $synopsis.Trim() | Should -Not -BeLike "$commandName *" -Because 'the synopsis must come from docs/en-US, not be generated'
    }

    It 'has a description' {
        Get-HelpText $help.description | Should -Not -BeNullOrEmpty
    }

    It 'has at least two examples, each with code and an explanation' {
        $examples = @($help.examples.example | Where-Object { $_ })
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            [string] $example.code | Should -Not -BeNullOrEmpty -Because "example '$($example.title)' needs code"
            Get-HelpText $example.remarks | Should -Not -BeNullOrEmpty -Because "example '$($example.title)' needs an explanation"
        }
    }

    It 'documents every parameter the cmdlet has, and no other' {
        $undocumented = @($codeParameters | Where-Object { $_ -notin $helpParameters })
        $notInCode = @($helpParameters | Where-Object { $_ -notin $codeParameters })
        $undocumented | Should -BeNullOrEmpty -Because "these parameters of $commandName have no help"
        $notInCode | Should -BeNullOrEmpty -Because "the help of $commandName documents parameters it does not have"
    }

    It 'describes every parameter' {
        foreach ($parameter in @($help.parameters.parameter | Where-Object { $_ })) {
            Get-HelpText $parameter.description | Should -Not -BeNullOrEmpty -Because "-$($parameter.name) needs a description"
        }
    }

    It 'gives each parameter the type, position, mandatory flag and pipeline input the code has' {
        $mismatches = foreach ($parameter in @($help.parameters.parameter | Where-Object { $_.name -in $codeParameters })) {
            $metadata = $command.Parameters[$parameter.name]
            $attributes = @($metadata.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })

            $required = [bool] ($attributes | Where-Object Mandatory)
            $positions = @($attributes | Where-Object { $_.Position -ge 0 } | ForEach-Object Position | Sort-Object -Unique)
            $position = if ($positions.Count) { [string] $positions[0] } else { 'named' }
            $byValue = [bool] ($attributes | Where-Object ValueFromPipeline)
            $byPropertyName = [bool] ($attributes | Where-Object ValueFromPipelineByPropertyName)

            $type = $metadata.ParameterType
            if ([Nullable]::GetUnderlyingType($type)) { $type = [Nullable]::GetUnderlyingType($type) }
            $documentedType = [string] $parameter.type.name

            if ($documentedType -notin $type.Name, $type.FullName) { "-$($parameter.name): type '$documentedType', code '$($type.Name)'" }
            if (($parameter.required -eq 'true') -ne $required) { "-$($parameter.name): required '$($parameter.required)', code '$required'" }
            if ($parameter.position -ne $position) { "-$($parameter.name): position '$($parameter.position)', code '$position'" }
            if (($parameter.pipelineInput -match 'ByValue') -ne $byValue) { "-$($parameter.name): pipeline input '$($parameter.pipelineInput)', code ByValue=$byValue" }
            if (($parameter.pipelineInput -match 'ByPropertyName') -ne $byPropertyName) { "-$($parameter.name): pipeline input '$($parameter.pipelineInput)', code ByPropertyName=$byPropertyName" }
        }
        $mismatches | Should -BeNullOrEmpty
    }

    It 'has one syntax entry per parameter set' {
        @($help.syntax.syntaxItem | Where-Object { $_ }).Count | Should -Be @($command.ParameterSets).Count
    }
}

Describe 'Get-Help about_Memalloc' {
    It 'returns the topic text' {
        $text = Get-Help -Name about_Memalloc | Out-String
        $text | Should -Match 'SHORT DESCRIPTION'
        $text | Should -Match 'RemoveIPC'
        $text | Should -Match 'Update-MemStack'
    }
}
