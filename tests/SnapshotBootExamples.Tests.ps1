# The systemd unit and the cron lines in Export-MemStore's help are not PowerShell examples, so HelpExamples.Tests.ps1
# cannot run them. Here the commands they hold run as systemd and cron would run them, around a simulated reboot (every
# store removed) in a private IPC namespace: what the help tells users to install must do what it says.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'SnapshotHelpers.ps1')
    $Help = Get-Content -LiteralPath (Join-Path (Split-Path -Parent $PSScriptRoot) 'docs' 'en-US' 'Export-MemStore.md')
    $Folder = New-SnapshotFolder
    # systemd runs /usr/bin/pwsh, cron finds pwsh on PATH: here both are the pwsh under test.
    $Bin = (New-Item -ItemType Directory -Path (Join-Path $Folder 'bin')).FullName
    $null = New-Item -ItemType SymbolicLink -Path (Join-Path $Bin 'pwsh') -Target $Pwsh
    # The reboot removes every store of the user, so it runs only where a private IPC namespace can be had (as root);
    # elsewhere the tests are skipped rather than run against the user's real stores.
    $null = & unshare --ipc -- true 2>&1
    $CanUnshare = $LASTEXITCODE -eq 0

    # The command of a systemd Exec line as /bin/sh runs it. systemd splits the line itself; its quoting agrees with sh's
    # as long as there is no $, backquote, backslash or % (which systemd would expand or unescape), so those are refused.
    # A "-" before the path (ignore a failure) is not taken: the unit must fail on a snapshot it cannot load.
    function ConvertFrom-ExecLine([string] $Key, [string] $StateDirectory) {
        $line = @($Help | Where-Object { $_ -like "$Key=*" })
        $line | Should -HaveCount 1 -Because "the help's unit has one $Key line"
        $command = $line[0].Substring($Key.Length + 1)
        $command | Should -Not -Match '[$`\\%]' -Because 'systemd would expand or unescape these'
        $command -replace '^/usr/bin/pwsh ', 'pwsh ' -replace '/var/lib/memalloc-cache', $StateDirectory
    }

    # A cron line's command (what cron hands to /bin/sh): after '@reboot', or after the five time fields.
    function ConvertFrom-CronLine([string] $Pattern) {
        $line = @($Help | Where-Object { $_ -match $Pattern })
        $line | Should -HaveCount 1 -Because "the help has one cron line matching '$Pattern'"
        if ($line[0] -match '^@\w+\s+(.*)$') { return $Matches[1] }
        ($line[0] -split '\s+', 6)[5]
    }

    # Fills store 'cache', runs $Shutdown, removes every store (the reboot), runs $Boot, and prints what the store holds,
    # all through /bin/sh with HOME and PATH as given, in an IPC namespace of its own. Returns the output lines.
    function Invoke-Reboot([string] $Shutdown, [string] $Boot, [string] $HomeFolder) {
        $script = @"
set -e
pwsh -NoProfile -Command "Set-MemStack -Name hits -Value 42 -Store cache; Set-MemStack -Name when -Value ([datetime]'2024-02-29T13:14:15Z') -Store cache"
$Shutdown
pwsh -NoProfile -Command "Remove-MemStore -Name cache -Force"
$Boot
pwsh -NoProfile -Command "Get-MemStack -Name hits -Store cache; (Get-MemStack -Name when -Store cache).ToUniversalTime().ToString('o')"
"@
        $null = New-Item -ItemType Directory -Path $HomeFolder -Force
        @(& env "HOME=$HomeFolder" "PATH=${Bin}:$env:PATH" unshare --ipc -- sh -c $script 2>&1 | ForEach-Object { "$_" })
        $LASTEXITCODE | Should -Be 0 -Because 'every command ran without error'
    }
}

AfterAll {
    Remove-Item -LiteralPath $Folder -Recurse -Force
}

Describe 'The boot and shutdown examples of Export-MemStore' {
    It 'the systemd unit saves the store at stop and restores it at start' {
        if (-not $CanUnshare) { Set-ItResult -Skipped -Because 'unshare --ipc needs root here, and the reboot removes every store of the user'; return }
        $state = Join-Path $Folder 'state'
        $null = New-Item -ItemType Directory -Path $state   # StateDirectory= makes it
        $stop = ConvertFrom-ExecLine 'ExecStop' $state
        $start = ConvertFrom-ExecLine 'ExecStart' $state
        $lines = Invoke-Reboot -Shutdown $stop -Boot $start -HomeFolder (Join-Path $Folder 'home-systemd')
        $lines | Should -Be @('42', '2024-02-29T13:14:15.0000000Z')
        [System.IO.File]::GetUnixFileMode((Join-Path $state 'cache.memsnap')) | Should -Be ([System.IO.UnixFileMode] 'UserRead, UserWrite')
    }

    It 'the systemd unit starts on a first boot, when there is no snapshot yet' {
        if (-not $CanUnshare) { Set-ItResult -Skipped -Because 'unshare --ipc needs root here, and the reboot removes every store of the user'; return }
        $state = Join-Path $Folder 'first-boot'
        $null = New-Item -ItemType Directory -Path $state
        $start = ConvertFrom-ExecLine 'ExecStart' $state
        & unshare --ipc -- sh -c "PATH='${Bin}':`$PATH; $start"
        $LASTEXITCODE | Should -Be 0
    }

    It 'the systemd unit fails to start on a damaged snapshot, so that systemd does not save over it at shutdown' {
        if (-not $CanUnshare) { Set-ItResult -Skipped -Because 'unshare --ipc needs root here, and the reboot removes every store of the user'; return }
        $state = Join-Path $Folder 'damaged'
        $null = New-Item -ItemType Directory -Path $state
        [System.IO.File]::WriteAllBytes((Join-Path $state 'cache.memsnap'), [byte[]] (0x89, 0x4D, 0x45, 0x4D))
        $start = ConvertFrom-ExecLine 'ExecStart' $state
        $output = & unshare --ipc -- sh -c "PATH='${Bin}':`$PATH; $start" 2>&1
        $LASTEXITCODE | Should -Not -Be 0 -Because "systemd runs ExecStop only after a start that succeeded: $output"
        "$output" | Should -Match 'snapshot'
    }

    It 'the cron lines save the store and restore it at boot, with ~ as the user''s home' {
        if (-not $CanUnshare) { Set-ItResult -Skipped -Because 'unshare --ipc needs root here, and the reboot removes every store of the user'; return }
        $homeFolder = Join-Path $Folder 'home-cron'
        $save = ConvertFrom-CronLine '^\*/10 '
        $reboot = ConvertFrom-CronLine '^@reboot '
        $lines = Invoke-Reboot -Shutdown $save -Boot $reboot -HomeFolder $homeFolder
        $lines | Should -Be @('42', '2024-02-29T13:14:15.0000000Z')
        Test-Path -LiteralPath (Join-Path $homeFolder 'cache.memsnap') | Should -BeTrue
    }
}
