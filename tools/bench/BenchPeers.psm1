#Requires -Version 7.4
<#
The peers Memalloc is measured against, as Debian packages: php-cli with APCu (and its built-in sysvshm) and
redis-server. Installed when missing; a private redis-server on a free loopback port for the length of a run.
#>

Set-StrictMode -Version Latest

function Test-BenchCommand([string] $Name) {
    [bool] (Get-Command -Name $Name -CommandType Application -ErrorAction Ignore)
}

# Which peers this machine has: Php, Apcu, Sysvshm, Redis.
function Get-BenchPeer {
    [CmdletBinding()]
    param ()
    $phpModules = if (Test-BenchCommand 'php') { @(& php -m 2>$null) } else { @() }
    [pscustomobject]@{
        Php     = Test-BenchCommand 'php'
        Apcu    = $phpModules -contains 'apcu'
        Sysvshm = $phpModules -contains 'sysvshm'
        Redis   = Test-BenchCommand 'redis-server'
    }
}

# Installs the missing peers with apt-get ('apt-get update' only when a package is not found). Returns what the report
# should say about peers that could not be installed.
function Install-BenchPeer {
    [CmdletBinding()]
    param ()
    $peer = Get-BenchPeer
    $missing = @(
        if (-not $peer.Php) { 'php-cli' }
        if (-not $peer.Apcu) { 'php-apcu' }
        if (-not $peer.Redis) { 'redis-server' }
    )
    if (-not $missing) { return }
    if (-not (Test-BenchCommand 'apt-get')) {
        return "Peers missing and no apt-get to install them: $($missing -join ', ')."
    }
    Write-Host "==> Installing peers: $($missing -join ', ')" -ForegroundColor Cyan
    $env:DEBIAN_FRONTEND = 'noninteractive'
    & apt-get install -y -qq @missing | Out-Host
    if ($LASTEXITCODE -ne 0) {
        & apt-get update -qq | Out-Host
        & apt-get install -y -qq @missing | Out-Host
    }
    if ($LASTEXITCODE -ne 0) { return "apt-get could not install $($missing -join ', ')." }
}

function Get-BenchPeerVersion {
    [CmdletBinding()]
    param ([Parameter(Mandatory)] $Peer)
    $first = { param([scriptblock] $Command) try { (& $Command 2>$null | Select-Object -First 1) -as [string] } catch { 'not found' } }
    [ordered]@{
        PHP   = if ($Peer.Php) { & $first { php -r 'echo PHP_VERSION;' } } else { 'not installed' }
        APCu  = if ($Peer.Apcu) { & $first { php -r 'echo phpversion("apcu");' } } else { 'not installed' }
        Redis = if ($Peer.Redis) { (& $first { redis-server --version }) -replace '^Redis server v=(\S+).*$', '$1' } else { 'not installed' }
    }
}

function Get-FreePort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    try {
        $listener.Start()
        return ([System.Net.IPEndPoint] $listener.LocalEndpoint).Port
    }
    finally {
        $listener.Stop()
    }
}

# A redis-server of our own on 127.0.0.1 at a free port, without persistence unless asked (an explicit SAVE writes
# dump.rdb into -Directory); returns Process and Endpoint once it accepts connections. Stop it with Stop-BenchRedis
# (in a finally).
function Start-BenchRedis {
    [CmdletBinding()]
    param ([Parameter(Mandatory)] [string] $Directory)
    $null = New-Item -ItemType Directory -Path $Directory -Force
    $port = Get-FreePort
    $info = [System.Diagnostics.ProcessStartInfo]::new('redis-server')
    foreach ($argument in @('--bind', '127.0.0.1', '--port', "$port", '--save', '', '--appendonly', 'no',
            '--dir', $Directory, '--daemonize', 'no', '--loglevel', 'warning')) {
        $info.ArgumentList.Add($argument)
    }
    $info.RedirectStandardOutput = $true
    $info.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($info)
    $deadline = [datetime]::UtcNow.AddSeconds(10)
    while ([datetime]::UtcNow -lt $deadline) {
        if ($process.HasExited) { throw "redis-server exited with code $($process.ExitCode)." }
        $client = [System.Net.Sockets.TcpClient]::new()
        try {
            $client.Connect('127.0.0.1', $port)
            return [pscustomobject]@{ Process = $process; Endpoint = "127.0.0.1:$port" }
        }
        catch [System.Net.Sockets.SocketException] {
            Start-Sleep -Milliseconds 50
        }
        finally {
            $client.Dispose()
        }
    }
    $process.Kill()
    throw "redis-server did not listen on 127.0.0.1:$port within 10 s."
}

function Stop-BenchRedis {
    [CmdletBinding()]
    param ([AllowNull()] $Redis)
    if (-not $Redis) { return }
    if (-not $Redis.Process.HasExited) {
        $Redis.Process.Kill()
        $null = $Redis.Process.WaitForExit(10000)
    }
    $Redis.Process.Dispose()
}

Export-ModuleMember -Function Get-BenchPeer, Install-BenchPeer, Get-BenchPeerVersion, Start-BenchRedis, Stop-BenchRedis
