# Real redis-server instances for the tests, on free loopback ports: one standalone server with an ACL user and a
# password, and a three-node Redis Cluster built with 'redis-cli --cluster create'. Started once per Pester run (the
# first suite that asks), shared by every suite, stopped by tools/PesterTest.ps1 when the run ends, whatever happened:
# each server's pid is written under the run's folder, and servers left by a run that died are stopped by the next.

$script:Servers = [System.Collections.Generic.List[object]]::new()
$script:Standalone = $null
$script:Cluster = $null
# Per user: another user's runs (root's CI, then a new user's first run) made theirs, and this user may not write there.
$script:RunRoot = Join-Path ([System.IO.Path]::GetTempPath()) "memalloc-test-redis-$([Environment]::UserName)"

# The ACL user the standalone server knows (and no default user): the tests reach it only with these.
$script:User = 'memalloc-test'
$script:Password = [guid]::NewGuid().ToString('N')

function Test-PortFree([int] $Port) {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, $Port)
    try { $listener.Start(); $true } catch { $false } finally { $listener.Stop() }
}

# A port below the ephemeral range whose cluster bus port (+10000) is free too.
function Get-FreePort {
    for ($i = 0; $i -lt 200; $i++) {
        $port = Get-Random -Minimum 20000 -Maximum 29000
        if ((Test-PortFree $port) -and (Test-PortFree ($port + 10000))) { return $port }
    }
    throw 'No free loopback port for redis-server.'
}

# Stops servers whose test run (the pwsh that started them) is gone.
function Stop-LeftoverServer {
    if (-not (Test-Path -LiteralPath $script:RunRoot)) { return }
    foreach ($runDir in Get-ChildItem -LiteralPath $script:RunRoot -Directory) {
        $owner = 0
        if (-not [int]::TryParse($runDir.Name, [ref] $owner) -or (Get-Process -Id $owner -ErrorAction Ignore)) { continue }
        foreach ($pidFile in Get-ChildItem -LiteralPath $runDir.FullName -Filter '*.pid' -Recurse) {
            $serverPid = [int] (Get-Content -LiteralPath $pidFile.FullName -Raw)
            Stop-Process -Id $serverPid -Force -ErrorAction Ignore
        }
        Remove-Item -LiteralPath $runDir.FullName -Recurse -Force -ErrorAction Ignore
    }
}

function Invoke-RedisCli {
    param ([int] $Port, [string[]] $Arguments, [switch] $Authenticated)
    $auth = if ($Authenticated) { @('--user', $script:User, '--pass', $script:Password, '--no-auth-warning') } else { @() }
    & redis-cli -h 127.0.0.1 -p $Port @auth @Arguments 2>&1
}

# redis-server and redis-cli, installed with apt-get when missing (as the benchmarks install their peers), so that the
# README's two commands are enough on a fresh Debian machine; .ci/run installs them up front.
function Assert-RedisInstalled {
    if ((Get-Command redis-server -ErrorAction Ignore) -and (Get-Command redis-cli -ErrorAction Ignore)) { return }
    if (Get-Command apt-get -ErrorAction Ignore) {
        & apt-get install -y -qq redis-server redis-tools *> $null
        if ($LASTEXITCODE -ne 0) { & apt-get update -qq *> $null; & apt-get install -y -qq redis-server redis-tools *> $null }
    }
    if (-not (Get-Command redis-server -ErrorAction Ignore)) { throw 'redis-server is not installed, and apt-get could not install it (apt-get install redis-server redis-tools).' }
}

# Starts one redis-server; returns its description once it answers PING.
function Start-TestRedisServer {
    param ([string[]] $Setting = @(), [switch] $Authenticated, [string] $Tag = 'standalone')
    Assert-RedisInstalled
    Stop-LeftoverServer
    $port = Get-FreePort
    $dir = Join-Path $script:RunRoot $PID "$Tag-$port"
    $null = New-Item -ItemType Directory -Path $dir -Force
    $config = @(
        "port $port", 'bind 127.0.0.1', "dir $dir", 'save ""', 'appendonly no', 'daemonize no',
        "logfile $(Join-Path $dir 'redis.log')", "pidfile $(Join-Path $dir 'redis.pid')"
    ) + $Setting
    if ($Authenticated) {
        $config += "user default off", "user $script:User on >$script:Password ~* &* +@all"
    }
    $configPath = Join-Path $dir 'redis.conf'
    $config | Set-Content -LiteralPath $configPath
    $process = Start-Process -FilePath (Get-Command redis-server).Source -ArgumentList $configPath -PassThru
    Set-Content -LiteralPath (Join-Path $dir 'server.pid') -Value $process.Id
    $server = [pscustomobject]@{ Port = $port; Process = $process; Dir = $dir; ConfigPath = $configPath; Authenticated = [bool] $Authenticated }
    $script:Servers.Add($server)
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while ("$(Invoke-RedisCli -Port $port -Arguments 'PING' -Authenticated:$Authenticated)" -ne 'PONG') {
        if ($process.HasExited -or [DateTime]::UtcNow -gt $deadline) {
            throw "redis-server on port $port did not start: $(Get-Content -LiteralPath (Join-Path $dir 'redis.log') -Raw -ErrorAction Ignore)"
        }
        Start-Sleep -Milliseconds 50
    }
    $server
}

# Restarts a server on the same port and configuration (its data is gone: no persistence in the tests).
function Restart-TestRedisServer {
    param ([Parameter(Mandatory)] $Server)
    Stop-Process -Id $Server.Process.Id -Force -ErrorAction Ignore
    $Server.Process.WaitForExit()
    $Server.Process = Start-Process -FilePath (Get-Command redis-server).Source -ArgumentList $Server.ConfigPath -PassThru
    Set-Content -LiteralPath (Join-Path $Server.Dir 'server.pid') -Value $Server.Process.Id
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while ("$(Invoke-RedisCli -Port $Server.Port -Arguments 'PING' -Authenticated:$Server.Authenticated)" -ne 'PONG') {
        if ([DateTime]::UtcNow -gt $deadline) { throw "redis-server on port $($Server.Port) did not restart." }
        Start-Sleep -Milliseconds 50
    }
}

# The shared standalone server (ACL user and password), started on first use.
function Get-TestRedis {
    if (-not $script:Standalone) { $script:Standalone = Start-TestRedisServer -Authenticated }
    $script:Standalone
}

# The shared three-node cluster, started on first use.
function Get-TestRedisCluster {
    if ($script:Cluster) { return $script:Cluster }
    $nodes = foreach ($i in 1..3) {
        Start-TestRedisServer -Tag "cluster$i" -Setting 'cluster-enabled yes', 'cluster-config-file nodes.conf', 'cluster-node-timeout 5000'
    }
    $endpoints = $nodes | ForEach-Object { "127.0.0.1:$($_.Port)" }
    $created = & redis-cli --cluster create @endpoints --cluster-replicas 0 --cluster-yes 2>&1
    if ($LASTEXITCODE -ne 0) { throw "redis-cli --cluster create failed: $created" }
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while (@($nodes | Where-Object { "$(Invoke-RedisCli -Port $_.Port -Arguments 'CLUSTER', 'INFO')" -notmatch 'cluster_state:ok' }).Count) {
        if ([DateTime]::UtcNow -gt $deadline) { throw 'The test cluster did not reach cluster_state:ok.' }
        Start-Sleep -Milliseconds 100
    }
    $script:Cluster = [pscustomobject]@{ Nodes = $nodes; ConnectionString = $endpoints -join ',' }
    $script:Cluster
}

# A connection string and credential for the standalone server.
function Get-TestRedisConnection {
    param ([string] $Extra)
    $server = Get-TestRedis
    [pscustomobject]@{
        ConnectionString = "127.0.0.1:$($server.Port)$(if ($Extra) { ",$Extra" })"
        Credential       = [pscredential]::new($script:User, (ConvertTo-SecureString $script:Password -AsPlainText -Force))
        Password         = $script:Password
        Port             = $server.Port
    }
}

function Stop-TestRedis {
    foreach ($server in $script:Servers) {
        Stop-Process -Id $server.Process.Id -Force -ErrorAction Ignore
    }
    $script:Servers.Clear()
    $script:Standalone = $null
    $script:Cluster = $null
    Remove-Item -LiteralPath (Join-Path $script:RunRoot $PID) -Recurse -Force -ErrorAction Ignore
}

Export-ModuleMember -Function Start-TestRedisServer, Restart-TestRedisServer, Get-TestRedis, Get-TestRedisCluster,
    Get-TestRedisConnection, Invoke-RedisCli, Stop-TestRedis
