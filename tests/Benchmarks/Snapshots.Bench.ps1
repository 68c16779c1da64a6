#Requires -Version 7.4
<#
.SYNOPSIS
Suite Snapshots: Export-MemStore and Import-MemStore of 100,000 stacks of 1 KiB, beside what users do today.

.DESCRIPTION
Runs in a pwsh of its own and imports the built module. One store of 100,000 stacks, each a string whose stored
CliXml is 1 KiB; the same strings as one hashtable. Cases, each a whole operation on all of them, wall clock (the
disk is part of the work):

  Export: Export-MemStore to a file, beside Export-Clixml of the hashtable, Redis SAVE of the same bytes (a private
    loopback redis-server, when the run has one), and writing the same bytes to a file with one fsync (what "copying
    their bytes" costs: the floor for any snapshot);
  Import: Import-MemStore into a new store, beside Import-Clixml of the hashtable's file.

All files go to out/bench/snapshots on the disk the repository is on, as a real snapshot would; redis-server writes
its dump into out/bench/redis. Each round runs every case once, in a new order; the median round is the result.
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory)] [string] $ContextPath,
    [Parameter(Mandatory)] [string] $OutPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'BenchSuite.psm1')

$context = Read-BenchContext -Path $ContextPath
$rounds = if ($context.Quick) { 1 } else { 5 }
$stacks = 100000
$size = 1024
$suffix = [guid]::NewGuid().ToString('N').Substring(0, 12)
$store = "bench-snap-$suffix"
$imported = "bench-snap-in-$suffix"
$folder = Join-Path $context.OutDir 'snapshots'
$snapshotPath = Join-Path $folder 'memalloc.memsnap'
$clixmlPath = Join-Path $folder 'clixml.xml'
$rawPath = Join-Path $folder 'raw.bin'

# RESP over one loopback connection: enough for SET in pipelined batches, FLUSHALL and SAVE.
function Send-Redis([System.Net.Sockets.NetworkStream] $Stream, [System.IO.StreamReader] $Reader, [object[][]] $Commands) {
    $buffer = [System.IO.MemoryStream]::new()
    foreach ($command in $Commands) {
        $header = [System.Text.Encoding]::ASCII.GetBytes("*$($command.Count)`r`n")
        $buffer.Write($header, 0, $header.Length)
        foreach ($argument in $command) {
            $bytes = if ($argument -is [byte[]]) { $argument } else { [System.Text.Encoding]::UTF8.GetBytes([string] $argument) }
            $length = [System.Text.Encoding]::ASCII.GetBytes("`$$($bytes.Length)`r`n")
            $buffer.Write($length, 0, $length.Length)
            $buffer.Write($bytes, 0, $bytes.Length)
            $buffer.Write([byte[]] (13, 10), 0, 2)
        }
    }
    $Stream.Write($buffer.GetBuffer(), 0, [int] $buffer.Length)
    foreach ($command in $Commands) {
        $reply = $Reader.ReadLine()
        if (-not $reply.StartsWith('+')) { throw "redis-server answered '$reply' to $($command[0])." }
    }
}

function Measure-Wall([scriptblock] $Body) {
    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    & $Body
    $watch.Elapsed.TotalNanoseconds
}

$notes = [System.Collections.Generic.List[string]]::new()
$measurements = [System.Collections.Generic.List[object]]::new()
$redis = $null
try {
    Import-Module (Join-Path $context.ModuleDir 'Memalloc.psd1')
    $null = New-Item -ItemType Directory -Path $folder -Force

    # A string whose CliXml (<S>...</S> in the Objs envelope) is exactly 1 KiB, different for every stack.
    $overhead = [System.Text.Encoding]::UTF8.GetByteCount([System.Management.Automation.PSSerializer]::Serialize('', 2))
    $filler = 'x' * ($size - $overhead - 6)
    $values = [hashtable]::new($stacks)
    for ($i = 0; $i -lt $stacks; $i++) {
        $name = 'stack{0:d6}' -f $i
        $values[$name] = $filler + $i.ToString('d6')
        Set-MemStack -Name $name -Value $values[$name] -Store $store
    }
    $info = Get-MemStackInfo -Name 'stack000000' -Store $store
    if ($info.Size -ne $size) { throw "A stack holds $($info.Size) bytes, not $size." }
    $storedBytes = [System.Text.Encoding]::UTF8.GetBytes([System.Management.Automation.PSSerializer]::Serialize($values['stack000000'], 2))

    $cases = [System.Collections.Generic.List[hashtable]]::new()
    $cases.Add(@{ Case = 'Export'; Subject = 'Memalloc'; Body = { Export-MemStore -Name $store -Path $snapshotPath } })
    $cases.Add(@{ Case = 'Import'; Subject = 'Memalloc'
            Setup = { Remove-MemStore -Name $imported -Force -ErrorAction SilentlyContinue }
            Body = { Import-MemStore -Path $snapshotPath -Name $imported } })
    $cases.Add(@{ Case = 'Export'; Subject = 'Export-Clixml'; Body = { Export-Clixml -InputObject $values -Path $clixmlPath } })
    $cases.Add(@{ Case = 'Import'; Subject = 'Import-Clixml'; Body = { $null = Import-Clixml -Path $clixmlPath } })
    $cases.Add(@{ Case = 'Export'; Subject = 'File write + fsync'; Body = {
                $file = [System.IO.FileStream]::new($rawPath, 'Create', 'Write', 'None', 1MB)
                try {
                    for ($i = 0; $i -lt $stacks; $i++) { $file.Write($storedBytes, 0, $storedBytes.Length) }
                    $file.Flush($true)
                }
                finally { $file.Dispose() }
            }
        })

    if ($context.RedisEndpoint) {
        $hostName, $port = $context.RedisEndpoint -split ':'
        $redis = [System.Net.Sockets.TcpClient]::new($hostName, [int] $port)
        $stream = $redis.GetStream()
        $reader = [System.IO.StreamReader]::new($stream, [System.Text.Encoding]::ASCII)
        Send-Redis $stream $reader @(, @('FLUSHALL'))
        for ($start = 0; $start -lt $stacks; $start += 1000) {
            Send-Redis $stream $reader @(for ($i = $start; $i -lt $start + 1000; $i++) { , @('SET', ('stack{0:d6}' -f $i), $storedBytes) })
        }
        $cases.Add(@{ Case = 'Export'; Subject = 'Redis SAVE'; Body = { Send-Redis $stream $reader @(, @('SAVE')) } })
    }
    else {
        $notes.Add('No redis-server in this run: Redis SAVE was not measured.')
    }

    foreach ($case in $cases) { $case.Samples = [System.Collections.Generic.List[double]]::new() }
    # One untimed round: files created, caches warm, the cmdlets compiled.
    foreach ($case in $cases) {
        if ($case.ContainsKey('Setup')) { & $case.Setup }
        & $case.Body
    }
    if ((Get-MemStack -Name 'stack099999' -Store $imported) -cne $values['stack099999']) { throw 'Import-MemStore did not give back what was exported.' }
    $random = [System.Random]::new(14)
    for ($round = 0; $round -lt $rounds; $round++) {
        foreach ($case in ($cases | Sort-Object { $random.Next() })) {
            if ($case.ContainsKey('Setup')) { & $case.Setup }
            $case.Samples.Add((Measure-Wall $case.Body))
        }
    }
    foreach ($case in $cases) {
        $median = Get-BenchMedian -Samples $case.Samples
        Write-Host ('{0,-7} {1,-20} {2,10:N3} s' -f $case.Case, $case.Subject, ($median / 1e9))
        $measurements.Add((New-BenchMeasurement -Suite Snapshots -Case $case.Case -Subject $case.Subject -Value $median -Unit ns -Clock wall `
                    -Key @{ Stacks = $stacks; Size = $size } -Detail @{ SamplesNs = @($case.Samples); FileBytes = $(
                        switch ($case.Subject) {
                            'Memalloc' { (Get-Item -LiteralPath $snapshotPath).Length }
                            'Export-Clixml' { (Get-Item -LiteralPath $clixmlPath).Length }
                            'Import-Clixml' { (Get-Item -LiteralPath $clixmlPath).Length }
                            'File write + fsync' { (Get-Item -LiteralPath $rawPath).Length }
                            default { $null }
                        }) }))
    }
}
catch {
    $notes.Add("$($_.Exception.GetType().Name): $($_.Exception.Message)")
}
finally {
    if ($redis) { $redis.Dispose() }
    Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction Ignore
    if (Get-Command Remove-MemStore -ErrorAction Ignore) {
        Remove-MemStore -Name $store, $imported -Force -Confirm:$false -ErrorAction SilentlyContinue
    }
}
Save-BenchSuiteResult -Path $OutPath -Measurements $measurements -Notes $notes
