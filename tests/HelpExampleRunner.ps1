# Runs help examples for HelpExamples.Tests.ps1, in a pwsh that the test starts in a private IPC namespace. Each example
# gets a new runspace, and every store it made (orphaned segments too) is removed before the next one starts, and its
# Redis registrations are its own: so each example meets no store at all, the 'default' store included, as if it had the
# machine to itself, and runs in an empty folder of its own (removed afterwards), so that examples that write files
# leave none behind. Writes one JSON line
# per example: Key, Output (what the example wrote, warnings included, as text), Error (why it failed, or null), Seconds.
param (
    [Parameter(Mandatory)] [string] $ExamplePath,
    [int] $TimeoutSeconds = 120
)

$ErrorActionPreference = 'Stop'
Import-Module Memalloc

foreach ($example in Get-Content -LiteralPath $ExamplePath -Raw | ConvertFrom-Json) {
    # Registrations of Redis stores, too, are the example's own: a configuration folder of its own.
    $env:XDG_CONFIG_HOME = Join-Path ([System.IO.Path]::GetTempPath()) "memalloc-example-$([guid]::NewGuid().ToString('N'))"
    # A folder of its own as the current location: examples that write files (snapshots) leave nothing behind.
    $folder = New-Item -ItemType Directory -Path (Join-Path ([System.IO.Path]::GetTempPath()) "memalloc-example-$([guid]::NewGuid().ToString('N'))")
    $runspace = [runspacefactory]::CreateRunspace()
    $runspace.Open()
    $shell = [powershell]::Create()
    $shell.Runspace = $runspace
    $null = $shell.AddScript(@"
`$ErrorActionPreference = 'Stop'
Import-Module Memalloc
Set-Location -LiteralPath '$($folder.FullName)'
$($example.Given)
`$PSDefaultParameterValues['Out-String:Width'] = 120
& {
$($example.Body)
} 3>&1 | Out-String
"@)
    $output = $null
    $failure = $null
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        $pending = $shell.BeginInvoke()
        if (-not $pending.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($TimeoutSeconds))) {
            $shell.Stop()
            $failure = "did not finish within $TimeoutSeconds s"
        }
        else {
            $output = $shell.EndInvoke($pending) -join "`n"
            if ($shell.Streams.Error.Count) { $failure = ($shell.Streams.Error | Out-String).Trim() }
        }
    }
    catch {
        $failure = ($_.Exception.InnerException ?? $_.Exception).Message
    }
    finally {
        $shell.Dispose()
        $runspace.Dispose()
    }

    Get-MemStore -ErrorAction SilentlyContinue | Where-Object Backend -EQ 'SharedMemory' | Remove-MemStore -Force -ErrorAction SilentlyContinue
    Remove-Item -LiteralPath $env:XDG_CONFIG_HOME -Recurse -Force -ErrorAction Ignore
    Remove-Item -LiteralPath $folder.FullName -Recurse -Force -ErrorAction SilentlyContinue
    [pscustomobject]@{ Key = $example.Key; Output = $output; Error = $failure; Seconds = $clock.Elapsed.TotalSeconds } | ConvertTo-Json -Compress
}
