# Issue 10, defect 10: a help example claimed what the module does not do. Every PowerShell example in docs/en-US
# (the EXAMPLES of each cmdlet and the code of about_Memalloc) is run here, so examples cannot drift from behaviour.
# HelpExampleRunner.ps1 runs them in pwsh processes of their own IPC namespace (unshare), each example in a new
# runspace that meets no store at all, 'default' included: every store it touches is its own. An example fails on
# any error it writes; where the help shows an Output block, the output must match it.
#
# An example that cannot run safely is listed in $NotRun below with the reason; an example that needs data to exist
# first gets it from $Given. Both are keyed '<help file> <example heading number>' and a key that names no example
# fails the run, so the lists cannot go stale.

BeforeDiscovery {
    $helpFolder = Join-Path (Split-Path -Parent $PSScriptRoot) 'docs' 'en-US'

    # The fenced code blocks of a markdown file, with the '### ' heading they sit under.
    function Get-MarkdownCodeBlock([string] $Path) {
        $heading = $null
        $fence = $null
        $lines = $null
        foreach ($line in Get-Content -LiteralPath $Path -Encoding utf8) {
            if ($null -ne $fence) {
                if ($line -match "^\s*$([regex]::Escape($fence))\s*$") {
                    [pscustomobject]@{ Heading = $heading; Language = $language; Code = $lines -join "`n" }
                    $fence = $null
                }
                else { $lines.Add($line) }
            }
            elseif ($line -match '^\s*(```+|~~~+)\s*([\w-]*)\s*$') {
                $fence = $Matches[1]
                $language = $Matches[2]
                $lines = [System.Collections.Generic.List[string]]::new()
            }
            elseif ($line -match '^##+\s+(.*)$') { $heading = $Matches[1].Trim() }
        }
    }

    $Examples = foreach ($file in Get-ChildItem -LiteralPath $helpFolder -Filter '*.md' | Sort-Object Name) {
        $byHeading = [ordered]@{}
        foreach ($block in Get-MarkdownCodeBlock $file.FullName) {
            if (-not $byHeading.Contains("$($block.Heading)")) { $byHeading["$($block.Heading)"] = [System.Collections.Generic.List[object]]::new() }
            $byHeading["$($block.Heading)"].Add($block)
        }
        foreach ($heading in $byHeading.Keys) {
            $code = @($byHeading[$heading] | Where-Object Language -EQ 'powershell')
            if (-not $code) { continue }
            $output = @($byHeading[$heading] | Where-Object Language -EQ 'Output')
            @{
                Topic    = $file.BaseName
                # A cmdlet's example by its number; a block of about_Memalloc by its heading (a number would move when a
                # section with code is added before it: an example was once skipped for another's reason that way).
                Key      = '{0} {1}' -f $file.BaseName, $(if ($heading -match '^(Example \d+)') { $Matches[1] } else { $heading })
                Title    = $heading
                Code     = $code.Code -join "`n"
                Expected = if ($output) { $output[0].Code } else { $null }
            }
        }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $script:NotRun = @{
        'Set-MemStack Example 3'     = 'it calls a web service (Invoke-RestMethod -Uri https://example.org/...)'
        'Get-MemStackInfo Example 3' = 'it watches for changes for as long as the stack exists'
        'Remove-MemStore Example 1'  = 'its point is the confirmation prompt, which a non-interactive run cannot answer'
        'about_Memalloc REDIS STORES' = 'it registers a store on a Redis server at redis.example.org and asks for a credential'
        'Register-MemStore Example 1' = 'it connects to a Redis server at redis.example.org and asks for a credential'
        'Register-MemStore Example 2' = 'it connects to a Redis server at redis.example.org and asks for a credential and a key'
    }

    $script:Given = @{
        'Get-MemStackInfo Example 1' = "Set-MemStack -Name a -Value 1; Set-MemStack -Name b -Value 'two'"
        'Get-MemStackInfo Example 2' = "1..7 | ForEach-Object { Set-MemStack -Name `"item`$_`" -Value ('x' * `$_ * 100) -Store cache }"
        'Get-MemStackInfo Example 4' = "Set-MemStack -Name 'session/1' -Value 1 -TimeToLive 30 -Store web; Set-MemStack -Name 'session/2' -Value 2 -TimeToLive 3600 -Store web"
        'Get-MemStack Example 3'     = "Set-MemStack -Name job1 -Value 'first' -Store work; Set-MemStack -Name job2 -Value ('x' * 100) -Store work"
        'Get-MemStack Example 7'     = "Set-MemStack -Name 'user/1' -Value 'ann' -Store cache; Set-MemStack -Name 'user/2' -Value 'bob' -Store cache"
        'Get-MemStackInfo Example 5' = "Set-MemStack -Name a -Value 1 -Store job-1; Set-MemStack -Name b -Value 2 -Store job-2"
        'Remove-MemStack Example 6'  = "Set-MemStack -Name 'token/1' -Value 1 -Store session-1; Set-MemStack -Name keep -Value 1 -Store session-1"
        'Get-MemStore Example 2'     = 'Set-MemStack -Name a -Value 1'
        'Get-MemStore Example 3'     = "Set-MemStack -Name a -Value ('x' * 1000) -Store cache"
        'Get-MemStore Example 4'     = 'Set-MemStack -Name a -Value 1'
        'Remove-MemStack Example 1'  = 'Set-MemStack -Name lastRun -Value 1'
        'Remove-MemStack Example 3'  = 'Set-MemStack -Name old -Value 1 -Store cache'
        'Unregister-MemStore Example 1' = "Register-MemStore -Name fleet -Redis 'redis.example.org:6379' -Force -Unsigned -WarningAction SilentlyContinue"
        'Unregister-MemStore Example 2' = "Register-MemStore -Name ci-1 -Redis 'redis.example.org:6379' -Force -Unsigned -WarningAction SilentlyContinue"
        'Import-MemStore Example 5'  = "`$null = New-Item -ItemType Directory -Path backups; Set-MemStack -Name a -Value 1 -Store s1; Set-MemStack -Name b -Value 2 -Store s2; Export-MemStore -Name s1 -Path backups/s1.memsnap; Export-MemStore -Name s2 -Path backups/s2.memsnap; Remove-MemStore -Name s1, s2 -Force"
        'Remove-MemStore Example 3'  = 'Set-MemStack -Name a -Value 1 -Store run-1; Set-MemStack -Name a -Value 1 -Store run-2; Remove-MemStack -Name a -Store run-2'
    }

    # Each runner gets a private IPC namespace: as root 'unshare --ipc', otherwise inside a user namespace.
    $script:Unshare = foreach ($candidate in @(, @('--ipc')) + @(, @('--user', '--map-root-user', '--ipc'))) {
        & unshare @candidate -- true 2>$null
        if ($LASTEXITCODE -eq 0) { , $candidate; break }
    }

    # The code the runner runs for an example: Pester examples run in Pester (in that runner's runspace).
    function Get-ExampleBody([hashtable] $Example) {
        if ($Example.Code -notmatch '(?m)^\s*Describe\b') { return $Example.Code }
        $pester = (Get-Module Pester).Path
        @"
Import-Module '$pester'
`$result = Invoke-Pester -Container (New-PesterContainer -ScriptBlock { $($Example.Code) }) -PassThru -Output None
if (`$result.Result -ne 'Passed') { throw "The example's tests did not pass: `$(`$result.Failed.ErrorRecord)" }
"@
    }

    # One runner pwsh per group of examples, each in its own IPC namespace (HelpExampleRunner.ps1).
    function Start-ExampleRunner([hashtable[]] $Group, [string] $Path) {
        @($Group | ForEach-Object { @{ Key = $_.Key; Given = $script:Given[$_.Key]; Body = Get-ExampleBody $_ } }) |
            ConvertTo-Json -Depth 3 -AsArray | Set-Content -LiteralPath $Path -Encoding utf8
        $startInfo = [System.Diagnostics.ProcessStartInfo]::new('unshare')
        foreach ($argument in @($script:Unshare) + @('--', $script:Pwsh, '-NoProfile', '-NonInteractive', '-File',
                (Join-Path $PSScriptRoot 'HelpExampleRunner.ps1'), '-ExamplePath', $Path)) {
            $startInfo.ArgumentList.Add($argument)
        }
        $startInfo.RedirectStandardOutput = $true
        $startInfo.RedirectStandardError = $true
        $process = [System.Diagnostics.Process]::Start($startInfo)
        [pscustomobject]@{ Process = $process; Output = $process.StandardOutput.ReadToEndAsync(); Errors = $process.StandardError.ReadToEndAsync() }
    }

    # A child pwsh writes its errors as CLIXML when its output is redirected: turn them back into text.
    function ConvertFrom-ChildError([string] $Text) {
        $Text = $Text.Trim()
        if ($Text -like '#< CLIXML*') {
            $Text = ([System.Management.Automation.PSSerializer]::Deserialize($Text.Substring(9)) | Out-String).Trim()
            $Text = $Text -replace '\x1b\[[0-9;]*m', ''
        }
        $Text
    }

    function ConvertTo-OutputLine([string] $Text) {
        @($Text -split '\r?\n' | ForEach-Object TrimEnd | Where-Object { $_ })
    }
}

Describe 'Issue 10 defect 10: every example in docs/en-US runs as the help says' -ForEach @{ AllExamples = $Examples } {
    BeforeAll {
        # Two runners share the examples (2 cores: more only thrash); the tests read their results as they come.
        $script:Runners = @()
        $script:Results = @{}
        if ($script:Unshare) {
            $runnable = @($AllExamples | Where-Object { -not $script:NotRun.ContainsKey($_.Key) })
            $count = [Math]::Max(1, [Math]::Min(2, [Environment]::ProcessorCount))
            $script:Runners = @(for ($i = 0; $i -lt $count; $i++) {
                    $group = @(for ($j = $i; $j -lt $runnable.Count; $j += $count) { $runnable[$j] })
                    Start-ExampleRunner $group (Join-Path $TestDrive "examples-$i.json")
                })
        }

        function Get-ExampleResult([string] $Key) {
            foreach ($runner in $script:Runners) {
                if ($script:Results.ContainsKey($Key)) { break }
                if (-not $runner.Process.WaitForExit(600000)) { throw 'a runner of help examples hung' }
                $stderr = ConvertFrom-ChildError $runner.Errors.GetAwaiter().GetResult()
                foreach ($line in $runner.Output.GetAwaiter().GetResult() -split '\r?\n' | Where-Object { $_ -like '{*' }) {
                    $result = $line | ConvertFrom-Json
                    $script:Results[$result.Key] = $result
                }
                if ($runner.Process.ExitCode -ne 0) { throw "a runner of help examples failed: $stderr" }
            }
            $script:Results[$Key]
        }
    }

    AfterAll {
        foreach ($runner in $script:Runners) {
            if (-not $runner.Process.HasExited) { $runner.Process.Kill($true) }
        }
    }

    It 'knows every example it is told to skip or to give data' {
        @($script:NotRun.Keys + $script:Given.Keys | Where-Object { $_ -notin $AllExamples.Key }) | Should -BeNullOrEmpty
    }

    It '<Topic>: <Title>' -TestCases $Examples {
        param ($Key, $Expected)
        if ($script:NotRun.ContainsKey($Key)) {
            Set-ItResult -Skipped -Because "it cannot run safely: $($script:NotRun[$Key])"
            return
        }
        if (-not $script:Unshare) {
            Set-ItResult -Skipped -Because 'unshare cannot make a private IPC namespace here, and examples write to the default store'
            return
        }
        $result = Get-ExampleResult $Key
        $result | Should -Not -BeNullOrEmpty -Because 'the runner ran the example'
        $result.Error | Should -BeNullOrEmpty -Because "the example must run without an error; it wrote:`n$($result.Output)"
        if ($null -ne $Expected) {
            ConvertTo-OutputLine $result.Output | Should -Be (ConvertTo-OutputLine $Expected) -Because 'the output is what the help shows'
        }
    }
}
