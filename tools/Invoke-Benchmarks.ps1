#Requires -Version 7.4
<#
.SYNOPSIS
Runs every benchmark side by side with its peers and writes docs/benchmarks.md (build.ps1 -Task Bench).

.DESCRIPTION
One run, one machine, so that every number in the report is a ratio measured side by side:
  1. installs the peers when missing (Debian: php-cli, php-apcu, redis-server through apt-get);
  2. starts a private redis-server on 127.0.0.1 at a free port (no persistence), and always stops it;
  3. tests/Benchmarks/Memalloc.Benchmarks: the core, Buffer.MemoryCopy, ConcurrentDictionary, Redis, and the
     reader-process scaling (BenchmarkDotNet, in-process, short jobs);
  4. tests/Benchmarks/peers/php-peers.php: APCu and sysvshm through php-cli;
  5. tests/Benchmarks/Cmdlets.Bench.ps1 in a child pwsh importing the built module;
  6. docs/benchmarks.md: machine, versions, medians, and the design's targets (section 5) as met / not met.
Raw results stay in out/bench/. A part that cannot run (a peer that will not install, a core that is not
implemented yet) is reported as not measured; the report is still written.
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $RepoRoot,
    [Parameter(Mandatory)] [string] $ModuleDir,
    [string] $ReportPath = (Join-Path $RepoRoot 'docs' 'benchmarks.md'),
    # Measured iterations per BenchmarkDotNet case (each about 100 ms of the clock in use).
    [int] $Iterations = 7,
    # cpu (default): single-process benchmarks time the process's CPU time (user + system, so page faults and GC
    # count), because a wall clock on a machine shared with other builds also counts waiting for a core.
    # wall: wall clock everywhere. Redis and the reader processes are always timed by the wall clock.
    [ValidateSet('cpu', 'wall')] [string] $Clock = 'cpu',
    # Leave out parts while working on the harness: Core (the whole BenchmarkDotNet program), Php, Cmdlets.
    # (a comma-separated string works too, as pwsh -File passes it).
    [string[]] $Skip = @()
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Skip = @($Skip -split ',' | ForEach-Object Trim | Where-Object { $_ })
foreach ($part in $Skip) {
    if ($part -notin 'Core', 'Php', 'Cmdlets') { throw "-Skip takes Core, Php and Cmdlets, not '$part'." }
}

$benchDir = Join-Path $RepoRoot 'tests' 'Benchmarks'
$outDir = Join-Path $RepoRoot 'out' 'bench'
$null = New-Item -ItemType Directory -Path $outDir -Force
$pwsh = Join-Path $PSHOME 'pwsh'
$runClock = [System.Diagnostics.Stopwatch]::StartNew()
$notes = [System.Collections.Generic.List[string]]::new()

function Write-Step([string] $Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

function Get-LoadAverage {
    [double] ((Get-Content -LiteralPath '/proc/loadavg' -Raw) -split ' ')[0]
}

function Test-Command([string] $Name) {
    [bool] (Get-Command -Name $Name -CommandType Application -ErrorAction Ignore)
}

function Test-PhpModule([string] $Name) {
    if (-not (Test-Command 'php')) { return $false }
    $modules = & php -m 2>$null
    return [bool] ($modules -contains $Name)
}

# Debian packages of the peers, installed only when missing; 'apt-get update' only when a package is not found.
function Install-Peer {
    $missing = @()
    if (-not (Test-Command 'php')) { $missing += 'php-cli' }
    if (-not (Test-PhpModule 'apcu')) { $missing += 'php-apcu' }
    if (-not (Test-Command 'redis-server')) { $missing += 'redis-server' }
    if (-not $missing) { return }
    if (-not (Test-Command 'apt-get')) {
        $notes.Add("Peers missing and no apt-get to install them: $($missing -join ', ').")
        return
    }
    Write-Step "Installing peers: $($missing -join ', ')"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    & apt-get install -y -qq @missing
    if ($LASTEXITCODE -ne 0) {
        & apt-get update -qq
        & apt-get install -y -qq @missing
    }
    if ($LASTEXITCODE -ne 0) { $notes.Add("apt-get could not install $($missing -join ', ').") }
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

function Start-Redis {
    $port = Get-FreePort
    $info = [System.Diagnostics.ProcessStartInfo]::new('redis-server')
    foreach ($argument in @('--bind', '127.0.0.1', '--port', "$port", '--save', '', '--appendonly', 'no',
            '--daemonize', 'no', '--loglevel', 'warning')) {
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

function Stop-Redis($Redis) {
    if ($Redis -and -not $Redis.Process.HasExited) {
        $Redis.Process.Kill()
        $null = $Redis.Process.WaitForExit(10000)
    }
    if ($Redis) { $Redis.Process.Dispose() }
}

# How many cores two CPU-bound processes actually get right now (2.0 on an idle 2-core machine): the reader-scaling
# target needs two, and a machine busy with other work may not give them.
function Measure-ParallelCapacity {
    $output = & bash -c 'for i in 1 2; do timeout 2 sh -c "while :; do :; done" & done; wait; times' 2>$null
    $children = @($output)[-1]
    if ($children -notmatch '^(\d+)m([\d.]+)s (\d+)m([\d.]+)s') { return $null }
    $cpu = [double] $Matches[1] * 60 + [double] $Matches[2] + [double] $Matches[3] * 60 + [double] $Matches[4]
    return $cpu / 2.0
}

function Read-Json([string] $Path) {
    if (Test-Path -LiteralPath $Path) { return Get-Content -LiteralPath $Path -Raw | ConvertFrom-Json }
    return $null
}

function Get-FirstLine([scriptblock] $Command) {
    try { return (& $Command 2>$null | Select-Object -First 1) -as [string] } catch { return 'not found' }
}

# ---------------------------------------------------------------- machine and versions
$loadBefore = Get-LoadAverage
$capacityBefore = $null
$capacityAfter = $null
$cpuModel = ((Get-Content -LiteralPath '/proc/cpuinfo' | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -split ':', 2)[1].Trim()
$machine = [ordered]@{
    CPU    = $cpuModel
    Cores  = [Environment]::ProcessorCount
    Kernel = (& uname -r)
    Memory = '{0:N1} GiB' -f ([double] ((Get-Content -LiteralPath '/proc/meminfo' -TotalCount 1) -replace '\D', '') / 1MB)
}

Install-Peer
$hasPhp = Test-Command 'php'
$hasApcu = Test-PhpModule 'apcu'
$hasSysvshm = Test-PhpModule 'sysvshm'
$hasRedis = Test-Command 'redis-server'
if ($hasPhp -and -not $hasSysvshm) { $notes.Add('php-cli was built without sysvshm (`php -m`): that peer is not measured.') }

$versions = [ordered]@{
    '.NET SDK'            = Get-FirstLine { dotnet --version }
    '.NET runtime'        = [System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription
    PowerShell            = $PSVersionTable.PSVersion.ToString()
    PHP                   = if ($hasPhp) { Get-FirstLine { php -r 'echo PHP_VERSION;' } } else { 'not installed' }
    APCu                  = if ($hasApcu) { Get-FirstLine { php -r 'echo phpversion("apcu");' } } else { 'not installed' }
    Redis                 = if ($hasRedis) { (Get-FirstLine { redis-server --version }) -replace '^Redis server v=(\S+).*$', '$1' } else { 'not installed' }
    BenchmarkDotNet       = '0.14.0'
    'StackExchange.Redis' = '2.8.16'
    Memalloc              = "$(Split-Path -Leaf $ModuleDir) ($(Get-FirstLine { git -C $RepoRoot rev-parse --short HEAD }))"
}

# ---------------------------------------------------------------- core, baselines, Redis, readers
$coreJson = Join-Path $outDir 'core.json'
$phpApcuJson = Join-Path $outDir 'apcu.json'
$phpSysvJson = Join-Path $outDir 'sysvshm.json'
$cmdletsJson = Join-Path $outDir 'cmdlets.json'

if ('Core' -notin $Skip) {
    Remove-Item -LiteralPath $coreJson -ErrorAction Ignore
    Write-Step 'Build tests/Benchmarks/Memalloc.Benchmarks'
    $project = Join-Path $benchDir 'Memalloc.Benchmarks' 'Memalloc.Benchmarks.csproj'
    $binDir = Join-Path $outDir 'bin'
    & dotnet build $project --configuration Release --output $binDir --nologo --verbosity quiet
    if ($LASTEXITCODE -ne 0) { throw 'The benchmark project did not build.' }

    $redis = $null
    try {
        $arguments = @('run', '--out', $coreJson, '--iterations', "$Iterations", '--clock', $Clock)
        if ($hasRedis) {
            $redis = Start-Redis
            $arguments += @('--redis', $redis.Endpoint)
            Write-Host "redis-server on $($redis.Endpoint)"
        }
        else {
            $notes.Add('redis-server is not installed: Redis is not measured.')
        }
        $capacityBefore = Measure-ParallelCapacity
        Write-Step 'BenchmarkDotNet: core, baselines, Redis; then reader processes'
        & (Join-Path $binDir 'Memalloc.Benchmarks') @arguments *> (Join-Path $outDir 'core.log')
        if ($LASTEXITCODE -ne 0) { $notes.Add("Memalloc.Benchmarks exited with code $LASTEXITCODE (see out/bench/core.log).") }
    }
    finally {
        Stop-Redis $redis
    }
    $capacityAfter = Measure-ParallelCapacity
}

# ---------------------------------------------------------------- PHP peers
if ('Php' -notin $Skip -and $hasPhp) {
    $phpScript = Join-Path $benchDir 'peers' 'php-peers.php'
    if ($hasApcu) {
        Write-Step 'PHP APCu'
        & php -d apc.enable_cli=1 -d apc.shm_size=64M $phpScript apcu $Clock > $phpApcuJson
        if ($LASTEXITCODE -ne 0) { $notes.Add("The APCu peer failed (exit code $LASTEXITCODE).") }
    }
    if ($hasSysvshm) {
        Write-Step 'PHP sysvshm'
        & php $phpScript sysvshm $Clock > $phpSysvJson
        if ($LASTEXITCODE -ne 0) { $notes.Add("The sysvshm peer failed (exit code $LASTEXITCODE).") }
    }
}

# ---------------------------------------------------------------- cmdlets
if ('Cmdlets' -notin $Skip) {
    Write-Step 'Cmdlets (child pwsh importing the built module)'
    & $pwsh -NoProfile -NonInteractive -File (Join-Path $benchDir 'Cmdlets.Bench.ps1') -ModuleDir $ModuleDir -OutPath $cmdletsJson -Clock $Clock
    if ($LASTEXITCODE -ne 0) { $notes.Add("Cmdlets.Bench.ps1 exited with code $LASTEXITCODE.") }
}

$loadAfter = Get-LoadAverage
$runClock.Stop()

# What the report says about the run itself. A report-only call (-Skip Core,Php,Cmdlets) rewrites the report from the
# last run's results, so it takes these from that run too, not from the moment of rewriting.
$runPath = Join-Path $outDir 'run.json'
$run = [pscustomobject]@{
    Finished       = [datetime]::UtcNow.ToString('yyyy-MM-dd HH:mm')
    Minutes        = $runClock.Elapsed.TotalMinutes
    LoadBefore     = $loadBefore
    LoadAfter      = $loadAfter
    CapacityBefore = $capacityBefore
    CapacityAfter  = $capacityAfter
    Memalloc       = $versions.Memalloc
}
if ($Skip.Count -eq 3 -and (Test-Path -LiteralPath $runPath)) {
    $run = Get-Content -LiteralPath $runPath -Raw | ConvertFrom-Json
    $loadBefore, $loadAfter = $run.LoadBefore, $run.LoadAfter
    $capacityBefore, $capacityAfter = $run.CapacityBefore, $run.CapacityAfter
    $versions.Memalloc = $run.Memalloc
}
elseif ($Skip.Count -eq 0) {
    $run | ConvertTo-Json | Set-Content -LiteralPath $runPath -Encoding utf8NoBOM
}

# ---------------------------------------------------------------- report
$core = Read-Json $coreJson
$apcu = Read-Json $phpApcuJson
$sysv = Read-Json $phpSysvJson
$cmdlets = Read-Json $cmdletsJson
$sizes = @(16, 1024, 65536, 1048576)

function Get-Bdn([string] $Group, [string] $Method, [long] $Value) {
    if (-not $core) { return $null }
    $hit = $core.Benchmarks | Where-Object { $_.Group -eq $Group -and $_.Method -eq $Method -and $_.Value -eq $Value }
    if ($hit) { return $hit.MedianNs }
    return $null
}

function Get-Php($Result, [string] $Method, [long] $Size) {
    if (-not $Result) { return $null }
    $hit = $Result.results | Where-Object { $_.method -eq $Method -and $_.size -eq $Size }
    if ($hit) { return [double] $hit.medianNs }
    return $null
}

function Get-Cmdlet([string] $Peer, [string] $Value) {
    if (-not $cmdlets) { return $null }
    $hit = $cmdlets.Cases | Where-Object { $_.Peer -eq $Peer -and $_.Value -eq $Value }
    if ($hit) { return [double] $hit.MedianNs }
    return $null
}

function Format-Time($Ns) {
    if ($null -eq $Ns) { return 'n/a' }
    if ($Ns -lt 10) { return '{0:N2} ns' -f $Ns }
    if ($Ns -lt 1000) { return '{0:N0} ns' -f $Ns }
    if ($Ns -lt 1e6) { return '{0:N1} µs' -f ($Ns / 1e3) }
    return '{0:N2} ms' -f ($Ns / 1e6)
}

function Format-Size([long] $Bytes) {
    switch ($Bytes) {
        { $_ -ge 1MB } { return "$($_ / 1MB) MiB" }
        { $_ -ge 1KB } { return "$($_ / 1KB) KiB" }
        default { return "$_ B" }
    }
}

function Format-Bytes($Bytes) {
    if ($null -eq $Bytes) { return 'n/a' }
    if ($Bytes -lt 1KB) { return "$Bytes B" }
    if ($Bytes -lt 1MB) { return '{0:N1} KiB' -f ($Bytes / 1KB) }
    return '{0:N2} MiB' -f ($Bytes / 1MB)
}

function Divide($Numerator, $Denominator) {
    if ($null -eq $Numerator -or $null -eq $Denominator -or $Denominator -eq 0) { return $null }
    return [double] $Numerator / [double] $Denominator
}

# What profiling found for each target this machine missed (issue 5: perf record with DOTNET_PerfMapEnabled=1 on
# 'Memalloc.Benchmarks profile <case>', perf stat page-faults, and the side-by-side baselines above). Shown only for a
# missed target; script blocks so that the text quotes this run's numbers. The core and cmdlets are not ours to edit:
# each names the function, what costs, and the proposed fix.
function Format-Ratio($Value) { if ($null -eq $Value) { 'n/a' } else { '{0:N2}' -f $Value } }
$causes = @{
    Pair16   = {
        'Profiled (`perf record`, `profile pair16`): the write path makes no system call and takes no page fault since the ' +
        'core recycles the retired arena (before that, a third of `Set` was page faults on fresh segments). What remains: ' +
        'three XxHash3 passes per write and per read (name, record header and names as the seed, value: ~17% of the pair, ' +
        '`Heap.Checksum`), two clock reads per write (`DateTimeOffset.UtcNow` in `MemStore.TrySet` and ' +
        '`Environment.TickCount64` in `CheckNotRemoved`: ~10%, vDSO `clock_gettime`), and name validation plus UTF-8 ' +
        'encoding in `MemStore.EncodeName` on both calls (~9%). Proposed: cache the last name''s encoded bytes and hash ' +
        'per store instance (same string reference: skip `EncodeName` and the name hash), and checksum the small header ' +
        'fields and the value in one XxHash3 pass for values under 240 bytes (one hash instead of two).'
    }
    Read1MiB = {
        $copyValue = Divide (Get-Bdn 'Baseline' 'MemoryCopy' 1048576) (Get-Bdn 'Core' 'CopyValue' 1048576)
        $toArray = Divide (Get-Bdn 'Baseline' 'MemoryCopy' 1048576) (Get-Bdn 'Baseline' 'CopyToNewArray' 1048576)
        '`MemStore.Get` returns a new `byte[]`: at 1 MiB that is a large-object-heap allocation per read (`Heap.ReadValue`, ' +
        '`GC.AllocateUninitializedArray`). Profiled (`perf record`/`perf stat`, `profile get1m`): about 44 page faults per ' +
        'read, because the LOH budget runs out every few reads, the GC decommits the freed arrays and the next one is faulted ' +
        'in again (page faults ~24%, GC system calls ~14%, the GC thread ~10% of the read); with `DOTNET_GCLOHThreshold` ' +
        'raised above 1 MiB the faults drop to one per read and the read costs less than half. Allocating and copying alone ' +
        "(``Span.ToArray``) reaches $(Format-Ratio $toArray) of ``Buffer.MemoryCopy``'s bandwidth here, so no read that returns " +
        "a fresh array can meet the target; the core's ``CopyValue`` into a reused buffer reaches $(Format-Ratio $copyValue). " +
        'Proposed: `Get-MemStack` (`CliXmlCodec.Deserialize` is fed by `MemStore.Get`) reads through `CopyValue` into a ' +
        'pooled buffer (`ArrayPool<byte>.Shared`, grown to the length `CopyValue` returns when it is too small) and decodes ' +
        'the UTF-8 from that span; it never needs the array itself.'
    }
    Copy1MiB = {
        $copyThenHash = Divide (Get-Bdn 'Baseline' 'MemoryCopy' 1048576) (Get-Bdn 'Baseline' 'CopyThenHash' 1048576)
        '`CopyValue` (`Heap.CopyValue` → `CopyAndHash`) copies the value and checks its XxHash3-64 checksum chunk by ' +
        'chunk; the hash over 1 MiB costs about as much as the copy (see the table), so a checksummed read makes two passes ' +
        "worth of work: copy-then-hash of pinned, cache-warm buffers reaches $(Format-Ratio $copyThenHash) of the bandwidth " +
        'at best on this machine, and the copy out of shared memory is colder than that. Meeting 50% needs a checksum ' +
        'cheaper than a second pass (a faster vectorised hash fused into the copy loop), not a change of layout.'
    }
    Readers  = {
        if (-not $readers) { return 'Not measured.' }
        $cpuRatio = Divide $readers.TwoReadersOpsPerCpuSecond $readers.OneReaderOpsPerCpuSecond
        "The readers did not get the cores: one reader ran on $('{0:N2}' -f $readers.OneReaderCores) of a core and two " +
        "readers on $('{0:N2}' -f $readers.TwoReadersCores) cores together (CPU time over wall time), on a 2-core machine " +
        "busy with other builds and tests (two busy loops got $(Format-Ratio $capacityBefore) and $(Format-Ratio $capacityAfter) cores " +
        'around the benchmarks, see Machine). Per CPU second two readers do ' +
        "$(Format-Ratio $cpuRatio)× what one does" +
        $(if ($cpuRatio -ge 1.8) { ', so they do not slow each other down' }
            else { " (each read's CPU time rises by $('{0:N0}' -f (200 / $cpuRatio - 100))% with two readers; not measured on an idle machine, so cache sharing with the other work cannot be told apart)" }) +
        ': the read path writes no shared cache line (the view''s reference count is per process; `Enter` and ' +
        '`StillValid` only load the anchor and the arena header). Nothing to fix in the core; rerun on an idle machine ' +
        'to judge the target.'
    }
    CmdletVs = {
        'Profile `Set-MemStack`/`Get-MemStack` (`CliXmlCodec.Serialize`/`Deserialize`, `PSSerializer`) against the ' +
        'Variable case in `tests/Benchmarks/Cmdlets.Bench.ps1`.'
    }
    Clixml   = {
        'Both sides are dominated by PowerShell''s CliXml serializer; see the cmdlet table.'
    }
    Scale    = {
        $hot = Divide (Get-Bdn 'Scale' 'GetHot' 1000000) (Get-Bdn 'Scale' 'Get' 100)
        "The index is not the cause: reading 100 hot names of the million-stack store costs $(Format-Ratio $hot)× a read " +
        'in the 100-stack store (no long probe chains; the 16-bit tag in each slot skips non-matching records). The cost ' +
        'is the memory hierarchy: a random read at a million stacks makes two dependent accesses far apart (the slot in a ' +
        '16 MiB index, then the record in a ~180 MiB heap), each a cache miss and, with 4 KiB pages inside a virtual ' +
        'machine, a TLB miss with a nested page walk. Profiled (`perf record`, `profile scale1m`): `Heap.NameEquals` (first ' +
        'touch of the record) and `Index.Find` (the slot load) take over half of the read, the copy and checksum little. A ' +
        'store of 100 stacks lives in L1/L2, so no design with out-of-line records meets 1.5× for reads spread over the ' +
        'whole store. Proposed: attach arenas with huge pages where available (`SHM_HUGETLB` when `vm.nr_hugepages` is ' +
        'set, or `madvise(MADV_HUGEPAGE)` when `transparent_hugepage/shmem_enabled` is `advise`; it is `never` here) to ' +
        'remove the TLB misses, and state the target for lookups of a working set (the hot column), which is met.'
    }
}

$readers = if ($core) { $core.Readers } else { $null }
$targets = @(
    [pscustomobject]@{
        Id = 'Pair16'; Target = 'Core set+get of 16 B ≤ APCu apcu_store+apcu_fetch'
        Measured = 'core / APCu'; Ratio = Divide (Get-Bdn 'Core' 'SetGet' 16) (Get-Php $apcu 'SetGet' 16); Limit = 1.0; AtMost = $true
    }
    [pscustomobject]@{
        Id = 'Copy1MiB'; Target = 'Core read of 1 MiB ≥ 50% of Buffer.MemoryCopy bandwidth: `CopyValue` into a reused buffer'
        Measured = 'MemoryCopy time / CopyValue time'; Ratio = Divide (Get-Bdn 'Baseline' 'MemoryCopy' 1048576) (Get-Bdn 'Core' 'CopyValue' 1048576); Limit = 0.5; AtMost = $false
    }
    [pscustomobject]@{
        Id = 'Read1MiB'; Target = 'Core read of 1 MiB ≥ 50% of Buffer.MemoryCopy bandwidth: `Get` (a new `byte[]`, what the cmdlets use)'
        Measured = 'MemoryCopy time / Get time'; Ratio = Divide (Get-Bdn 'Baseline' 'MemoryCopy' 1048576) (Get-Bdn 'Core' 'Get' 1048576); Limit = 0.5; AtMost = $false
    }
    [pscustomobject]@{
        Id = 'Readers'; Target = 'Two reader processes ≥ 1.7× one reader'
        Measured = 'two / one (reads per second)'; Ratio = if ($readers) { Divide $readers.TwoReadersOpsPerSecond $readers.OneReaderOpsPerSecond } else { $null }; Limit = 1.7; AtMost = $false
    }
    [pscustomobject]@{
        Id = 'CmdletVs'; Target = 'Set-MemStack+Get-MemStack (small object) ≤ 1.2× Set/Get-Variable + PSSerializer round trip'
        Measured = 'MemStack / Variable'; Ratio = Divide (Get-Cmdlet 'MemStack' 'Small') (Get-Cmdlet 'Variable' 'Small'); Limit = 1.2; AtMost = $true
    }
    [pscustomobject]@{
        Id = 'Clixml'; Target = 'Set-MemStack+Get-MemStack (small object) ≥ 5× faster than Export/Import-Clixml on /dev/shm'
        Measured = 'Clixml / MemStack'; Ratio = Divide (Get-Cmdlet 'Clixml' 'Small') (Get-Cmdlet 'MemStack' 'Small'); Limit = 5.0; AtMost = $false
    }
    [pscustomobject]@{
        Id = 'Scale'; Target = 'Reads at 1,000,000 stacks of 100 B ≤ 1.5× reads at 100 stacks'
        Measured = 'Get at 1,000,000 / Get at 100'; Ratio = Divide (Get-Bdn 'Scale' 'Get' 1000000) (Get-Bdn 'Scale' 'Get' 100); Limit = 1.5; AtMost = $true
    }
)
foreach ($t in $targets) {
    $status = if ($null -eq $t.Ratio) { 'not measured' }
    elseif (($t.AtMost -and $t.Ratio -le $t.Limit) -or (-not $t.AtMost -and $t.Ratio -ge $t.Limit)) { 'met' }
    else { 'not met' }
    $t | Add-Member -NotePropertyName Status -NotePropertyValue $status
}

$md = [System.Collections.Generic.List[string]]::new()
$md.Add('# Benchmarks')
$md.Add('')
$md.Add('Generated by `dotnet pwsh ./build.ps1 -Task Bench` (`tools/Invoke-Benchmarks.ps1`); do not edit by hand.')
$md.Add("Every number below comes from one run on one machine, and the targets are judged only as ratios of numbers")
$md.Add('measured side by side in that run. Absolute times are this machine''s, not a promise.')
$md.Add('')
$md.Add("Run: $($run.Finished) UTC, $('{0:N1}' -f $run.Minutes) minutes.")
$md.Add('')
if ($Clock -eq 'cpu') {
    $md.Add('Clock: **process CPU time** (user + system time of all the process''s threads, so page faults, system calls and')
    $md.Add('GC count) for every single-process benchmark: the core, the baselines, PHP and the cmdlets. On a machine shared')
    $md.Add('with other work a wall clock also counts the time a process waits for a core, which differs from one benchmark to')
    $md.Add('the next. Redis (a round trip to another process) and the reader processes (parallelism) use the wall clock.')
}
else {
    $md.Add('Clock: wall clock (Stopwatch, hrtime) for every benchmark.')
}
$md.Add('')
$md.Add('## Targets (design section 5)')
$md.Add('')
$md.Add('| target | measured as | ratio | required | result |')
$md.Add('|---|---|---:|---:|---|')
foreach ($t in $targets) {
    $ratio = if ($null -eq $t.Ratio) { 'n/a' } else { '{0:N2}' -f $t.Ratio }
    $required = if ($t.AtMost) { '≤ {0:N1}' -f $t.Limit } else { '≥ {0:N1}' -f $t.Limit }
    $md.Add("| $($t.Target) | $($t.Measured) | $ratio | $required | **$($t.Status)** |")
}
$missed = @($targets | Where-Object Status -NE 'met')
if ($missed) {
    $md.Add('')
    $md.Add('### Why a target is missed')
    $md.Add('')
    foreach ($t in $missed) {
        $why = if ($t.Status -eq 'not measured') {
            if ($t.Id -in 'CmdletVs', 'Clixml' -and $cmdlets -and $cmdlets.ModuleError) { "Not measured: the module could not be used ($($cmdlets.ModuleError))." }
            elseif ($core -and -not $core.CoreAvailable) { "Not measured: the core could not be used ($($core.CoreError))." }
            else { 'Not measured in this run (see the notes below).' }
        }
        else { & $causes[$t.Id] }
        $md.Add("- **$($t.Target)** ($($t.Status)): $why")
    }
}

$md.Add('')
$md.Add('## Machine')
$md.Add('')
$md.Add('| | |')
$md.Add('|---|---|')
foreach ($k in $machine.Keys) { $md.Add("| $k | $($machine[$k]) |") }
$md.Add("| load average (1 min) | $('{0:N2}' -f $loadBefore) before, $('{0:N2}' -f $loadAfter) after |")
if ($null -ne $capacityBefore -or $null -ne $capacityAfter) {
    $md.Add("| cores two busy processes got (2 s each) | $(Format-Ratio $capacityBefore) before the core benchmarks, $(Format-Ratio $capacityAfter) after the reader test |")
}
if ([math]::Max($loadBefore, $loadAfter) -ge 0.5) {
    $md.Add('')
    $md.Add("The machine was not idle: other work (builds and tests of other branches) shared its $($machine.Cores) cores during")
    $md.Add('this run. Side-by-side ratios are affected less than absolute times, but the reader-scaling ratio needs both cores.')
}
$md.Add('')
$md.Add('## Versions')
$md.Add('')
$md.Add('| | |')
$md.Add('|---|---|')
foreach ($k in $versions.Keys) { $md.Add("| $k | $($versions[$k]) |") }

$md.Add('')
$md.Add('## Core and peers: median time per operation')
$md.Add('')
$md.Add('Set writes (overwrites) one value, Get reads it back into a new buffer, Set+Get is one of each. Memalloc: the core''s')
$md.Add('`MemStore` (`Set(name, ReadOnlySpan<byte>)`, `Get(name)` → `byte[]`). APCu: `apcu_store`/`apcu_fetch` (php-cli,')
$md.Add('`apc.enable_cli=1`). sysvshm: PHP''s `shm_put_var`/`shm_get_var`. Redis: StackExchange.Redis `StringSet`/`StringGet`')
$md.Add('over loopback (a network round trip each). ConcurrentDictionary: in-process, stores and returns a reference (the')
$md.Add('no-sharing limit). Buffer.MemoryCopy: one copy of the value between two pinned arrays (the bandwidth limit).')
$md.Add('PHP times have the empty loop''s cost subtracted, as BenchmarkDotNet subtracts its own overhead.')
$md.Add('')
$md.Add('| operation | size | Memalloc | APCu | sysvshm | Redis | ConcurrentDictionary | Buffer.MemoryCopy |')
$md.Add('|---|---:|---:|---:|---:|---:|---:|---:|')
foreach ($op in @(@('Set', 'Set', $null), @('Get', 'Get', 'DictionaryGet'), @('Set+Get', 'SetGet', 'DictionarySetGet'))) {
    foreach ($size in $sizes) {
        $dict = if ($op[2]) { Format-Time (Get-Bdn 'Baseline' $op[2] $size) } else { '' }
        $copy = if ($op[0] -eq 'Get') { Format-Time (Get-Bdn 'Baseline' 'MemoryCopy' $size) } else { '' }
        $md.Add("| $($op[0]) | $(Format-Size $size) | $(Format-Time (Get-Bdn 'Core' $op[1] $size)) | $(Format-Time (Get-Php $apcu $op[1] $size)) | $(Format-Time (Get-Php $sysv $op[1] $size)) | $(Format-Time (Get-Bdn 'Redis' $op[1] $size)) | $dict | $copy |")
    }
}

$md.Add('')
$md.Add('### Where a large read''s time goes')
$md.Add('')
$md.Add('`Get(name)` returns a new `byte[]`, so its floor is allocating that array and copying into it, not a copy alone;')
$md.Add('`CopyValue(name, Span<byte>)` reads into the caller''s buffer (here one reused buffer), so it pays no allocation.')
$md.Add('Both')
$md.Add('check the record''s XxHash3-64 checksum over the value. Memory allocated per operation is BenchmarkDotNet''s')
$md.Add('MemoryDiagnoser figure.')
$md.Add('')
$md.Add('The last column is what a checksummed read into a caller''s (reused) buffer would cost at best: copy, then hash the copy.')
$md.Add('')
$md.Add('| size | Memalloc Get | allocated per Get | Memalloc CopyValue (reused buffer) | Buffer.MemoryCopy | new byte[] + copy (`Span.ToArray`) | XxHash3-64 of the value | copy, then hash |')
$md.Add('|---:|---:|---:|---:|---:|---:|---:|---:|')
foreach ($size in $sizes) {
    $hit = if ($core) { $core.Benchmarks | Where-Object { $_.Group -eq 'Core' -and $_.Method -eq 'Get' -and $_.Value -eq $size } }
    $alloc = if ($hit) { $hit.AllocatedBytes } else { $null }
    $md.Add("| $(Format-Size $size) | $(Format-Time (Get-Bdn 'Core' 'Get' $size)) | $(Format-Bytes $alloc) | $(Format-Time (Get-Bdn 'Core' 'CopyValue' $size)) | $(Format-Time (Get-Bdn 'Baseline' 'MemoryCopy' $size)) | $(Format-Time (Get-Bdn 'Baseline' 'CopyToNewArray' $size)) | $(Format-Time (Get-Bdn 'Baseline' 'XxHash3Value' $size)) | $(Format-Time (Get-Bdn 'Baseline' 'CopyThenHash' $size)) |")
}

$md.Add('')
$md.Add('## Scale: reads in a store of 100 and of 1,000,000 stacks')
$md.Add('')
$md.Add('Stacks of 100 bytes; each read picks a name at random from the whole store (a fixed sequence of 16,384 picks), so at')
$md.Add('a million stacks the index and the records are mostly out of the CPU caches, as in real use.')
$md.Add('')
$md.Add('The second column reads only 100 of the store''s names over and over (the working set of the small store): the')
$md.Add('difference between the columns at a million stacks is the memory hierarchy''s (cache and TLB misses), not the index''s.')
$md.Add('')
$md.Add('| stacks | Get, names at random from the whole store | Get, 100 hot names |')
$md.Add('|---:|---:|---:|')
foreach ($n in 100, 1000000) { $md.Add("| $('{0:N0}' -f $n) | $(Format-Time (Get-Bdn 'Scale' 'Get' $n)) | $(Format-Time (Get-Bdn 'Scale' 'GetHot' $n)) |") }

$md.Add('')
$md.Add('## Reader processes')
$md.Add('')
if ($readers) {
    $md.Add("Separate processes reading one $(Format-Size $readers.ValueSize) stack in a loop for $($readers.WindowSeconds) s per round; the same two warm")
    $md.Add("processes serve both cases, in alternating rounds ($(@($readers.Rounds).Count) measurements); medians of the summed reads per second.")
    $md.Add('')
    $md.Add('The target is judged on reads per second of wall time. The other columns say why it can fall short on a busy')
    $md.Add('machine: *cores used* is the readers'' CPU time over wall time (2.0 would be two whole cores), and *reads per CPU')
    $md.Add('second* is what the readers would do with a core each; its ratio shows whether readers slow each other down.')
    $md.Add('')
    $md.Add('| readers | reads per second (wall) | cores used | reads per CPU second | CPU time per read |')
    $md.Add('|---:|---:|---:|---:|---:|')
    $md.Add("| 1 | $('{0:N0}' -f $readers.OneReaderOpsPerSecond) | $('{0:N2}' -f $readers.OneReaderCores) | $('{0:N0}' -f $readers.OneReaderOpsPerCpuSecond) | $(Format-Time (1e9 / $readers.OneReaderOpsPerCpuSecond)) |")
    $md.Add("| 2 | $('{0:N0}' -f $readers.TwoReadersOpsPerSecond) | $('{0:N2}' -f $readers.TwoReadersCores) | $('{0:N0}' -f $readers.TwoReadersOpsPerCpuSecond) | $(Format-Time (2e9 / $readers.TwoReadersOpsPerCpuSecond)) |")
    $md.Add('')
    $md.Add("Two / one: $('{0:N2}' -f ($readers.TwoReadersOpsPerSecond / $readers.OneReaderOpsPerSecond)) by wall time (the target), $('{0:N2}' -f ($readers.TwoReadersOpsPerCpuSecond / $readers.OneReaderOpsPerCpuSecond)) per CPU second.")
}
else {
    $md.Add('Not measured in this run.')
}

$md.Add('')
$md.Add('## Cmdlets')
$md.Add('')
$md.Add('One operation is a write and a read of the same value, in a loop inside one script block (`tests/Benchmarks/Cmdlets.Bench.ps1`,')
$md.Add('a child pwsh importing the built module). The small object is a `[pscustomobject]` with four properties (string, int,')
$md.Add('DateTime, bool); the large one a 1 MiB `byte[]`. After four warm-up rounds of every case (script-block compilation')
$md.Add('and tiered JIT settle), alternating blocks of about 150 ms whose order rotates every round; medians of 9 rounds.')
$md.Add('')
$md.Add('| value | Set-MemStack + Get-MemStack | Set/Get-Variable + PSSerializer round trip | Export/Import-Clixml on /dev/shm | [hashtable]::Synchronized |')
$md.Add('|---|---:|---:|---:|---:|')
foreach ($value in 'Small', '1MiB') {
    $md.Add("| $value | $(Format-Time (Get-Cmdlet 'MemStack' $value)) | $(Format-Time (Get-Cmdlet 'Variable' $value)) | $(Format-Time (Get-Cmdlet 'Clixml' $value)) | $(Format-Time (Get-Cmdlet 'Synchronized' $value)) |")
}

if ($core -and -not $core.CoreAvailable) { $notes.Add("The core could not be used, so its benchmarks were skipped: $($core.CoreError)") }
if ($core) { foreach ($e in $core.Errors) { $notes.Add($e) } }
if ($core) {
    foreach ($b in @($core.Benchmarks | Where-Object Error)) { $notes.Add("$($b.Group).$($b.Method)($($b.Value)): $($b.Error)") }
    # BenchmarkDotNet logs a failing benchmark's exception; say which, so a failure in the core is visible here.
    $log = Join-Path $outDir 'core.log'
    $anyFailure = @($core.Benchmarks | Where-Object Error).Count -or @($core.Errors | Where-Object { $_ -like 'failed, then retried*' }).Count
    if ($anyFailure -and (Test-Path -LiteralPath $log)) {
        $lines = Get-Content -LiteralPath $log
        for ($i = 0; $i -lt $lines.Count; $i++) {
            if ($lines[$i] -match '^\s*---> (\S+Exception): (.*)$') {
                $where = ($lines[($i + 1)..([math]::Min($i + 4, $lines.Count - 1))] | ForEach-Object { $_.Trim() -replace ' in /\S+:line (\d+)', ' line $1' }) -join '; '
                $notes.Add("Exception in that run: $($Matches[1]): $($Matches[2]) ($where)")
            }
        }
    }
}
if ($cmdlets -and $cmdlets.ModuleError) { $notes.Add("The module could not be used, so Set/Get-MemStack were skipped: $($cmdlets.ModuleError)") }
if ($notes.Count) {
    $md.Add('')
    $md.Add('## Notes')
    $md.Add('')
    foreach ($n in $notes) { $md.Add("- $n") }
}
$md.Add('')
$md.Add('## How it is measured')
$md.Add('')
$md.Add('- BenchmarkDotNet 0.14.0, in-process toolchain, one launch, 2 warm-up and ' + $Iterations + ' measured iterations of about 100 ms,')
$md.Add('  MemoryDiagnoser on; medians. Each benchmark uses its own store (`bench-<guid>`) and destroys it.')
$md.Add('- PHP: `tests/Benchmarks/peers/php-peers.php`, `getrusage` CPU time (or `hrtime` for the wall clock) around blocks of N
  iterations (about 100 ms), median of 9 blocks.')
$md.Add('- Redis: a private `redis-server` on 127.0.0.1 at a free port, `--save '''' --appendonly no`, stopped after the run.')
$md.Add('- Raw results: `out/bench/*.json`, BenchmarkDotNet''s log and tables: `out/bench/core.log`, `out/bench/BenchmarkDotNet.Artifacts/`.')
$md.Add('- Profiling a case (how the causes above were found): `DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -g')
$md.Add('  out/bench/bin/Memalloc.Benchmarks profile <case> <seconds>` with case `pair16`, `set16`, `get16`, `get1k`, `set64k`,')
$md.Add('  `get1m`, `set1m`, `scale100`, `scale1m` or `scale1m-hot`; it prints wall and CPU ns per operation. `perf stat -e page-faults`')
$md.Add('  counts faults (this virtual machine exposes no hardware counters).')

Set-Content -LiteralPath $ReportPath -Value ($md -join "`n") -Encoding utf8NoBOM
Write-Step "Report: $ReportPath ($('{0:N1}' -f $runClock.Elapsed.TotalMinutes) min)"
foreach ($t in $targets) {
    $ratio = if ($null -eq $t.Ratio) { 'n/a' } else { '{0:N2}' -f $t.Ratio }
    Write-Host ("{0,-12} {1,8} {2}" -f $t.Status, $ratio, $t.Target)
}
