# The fault, security, soak and bad-input suites' own helpers (the kill campaign, children whose stdout and stderr go
# to files, store checks) on top of tests/common.ps1, which imports the module and gives store names, cleanup and
# child pwsh processes to every suite. Dot-source it from a BeforeAll.

. (Join-Path $PSScriptRoot '..' 'common.ps1')
. (Join-Path $PSScriptRoot 'FaultValue.ps1')

$script:FaultModulePath = Join-Path (Get-Module -Name Memalloc).ModuleBase 'Memalloc.psd1'
$script:FaultDir = $PSScriptRoot
# A python that the unprivileged user of the hostile-segment tests can run (root's pyenv shims are not).
$script:FaultPython = if (Test-Path -LiteralPath '/usr/bin/python3') { '/usr/bin/python3' } else { 'python3' }

function New-FaultTempDirectory {
    $path = Join-Path ([System.IO.Path]::GetTempPath()) "memalloc-faults-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $null = New-Item -ItemType Directory -Path $path
    $path
}

# Starts "pwsh -File <script> <args>" through sh, so that stdout and stderr go to files (nobody has to drain a pipe)
# and the process we get (and kill) is pwsh itself (exec).
function Start-FaultChild {
    param (
        [Parameter(Mandatory)] [string] $Script,
        [string[]] $ArgumentList = @(),
        [Parameter(Mandatory)] [string] $LogPrefix,
        [hashtable] $Environment = @{}
    )
    $info = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
    $info.UseShellExecute = $false
    foreach ($a in @('-c', 'o=$1; e=$2; shift 2; exec "$@" <NUL >"$o" 2>"$e"'.Replace('NUL', '/dev/null'), 'sh',
            "$LogPrefix.out", "$LogPrefix.err", $script:Pwsh, '-NoProfile', '-NonInteractive', '-File', $Script)) {
        $info.ArgumentList.Add($a)
    }
    foreach ($a in $ArgumentList) { $info.ArgumentList.Add($a) }
    foreach ($k in $Environment.Keys) { $info.Environment[$k] = [string] $Environment[$k] }
    $process = [System.Diagnostics.Process]::Start($info)
    [pscustomobject]@{ Process = $process; LogPrefix = $LogPrefix }
}

function Get-FaultChildLog($Child) {
    $text = foreach ($ext in 'out', 'err') {
        $p = "$($Child.LogPrefix).$ext"
        if (Test-Path -LiteralPath $p) { Get-Content -LiteralPath $p -Raw }
    }
    ($text -join "`n").Trim()
}

# SIGKILL (Process.Kill on Unix), then reap.
function Stop-FaultChild($Child) {
    if (-not $Child.Process.HasExited) {
        try { $Child.Process.Kill() } catch [System.InvalidOperationException] { Write-Verbose 'already exited' }
    }
    $null = $Child.Process.WaitForExit(10000)
}

# Complete lines only: the last line of a file whose writer was killed mid-write may be partial.
function Read-FaultLine([string] $Path) {
    if (-not (Test-Path -LiteralPath $Path)) { return @() }
    $text = [System.IO.File]::ReadAllText($Path)
    $end = $text.LastIndexOf("`n")
    if ($end -lt 0) { return @() }
    $text.Substring(0, $end).Split("`n")
}

# The store's own invariant walk (MemStore.Verify, public core API: the core assembly is loaded with the module).
function Invoke-FaultVerify([string] $Store) {
    $s = [Memalloc.Core.MemStore]::OpenExisting($Store)
    if ($null -eq $s) { return [pscustomobject]@{ IsValid = $false; Problems = @("store $Store does not exist") } }
    try { $s.Verify() } finally { $s.Dispose() }
}

# Name, version, size, type and CliXml of every value: what "the store is unchanged" compares.
function Get-FaultSnapshot([string] $Store) {
    $lines = foreach ($info in @(Get-MemStackInfo -Store $Store -ErrorAction Stop)) {
        $value = Get-MemStack -Name ([WildcardPattern]::Escape($info.Name)) -Store $Store -ErrorAction Stop
        '{0}|{1}|{2}|{3}|{4}|{5}' -f $info.Name, $info.Version, $info.Size, $info.TypeName, $info.Expires,
            [System.Management.Automation.PSSerializer]::Serialize($value, 3)
    }
    $lines -join "`n"
}

function Write-FaultFigure([string] $Campaign, [System.Collections.IDictionary] $Figures) {
    if (-not $env:MEMALLOC_FAULTS_REPORT) { return }
    $null = New-Item -ItemType Directory -Path $env:MEMALLOC_FAULTS_REPORT -Force
    $Figures['Campaign'] = $Campaign
    $Figures | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath (Join-Path $env:MEMALLOC_FAULTS_REPORT "$Campaign.json")
}

# Times one write: the store promises a dead lock holder costs milliseconds, never a lock timeout.
function Measure-FaultWrite([string] $Store, [string] $Name, [object] $Value) {
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    Set-MemStack -Name $Name -Value $Value -Store $Store -ErrorAction Stop
    $watch.Elapsed.TotalSeconds
}

<#
Kill campaign: $Writers writer children (tests/faults/Writer.ps1, -Mode) loop writes into $Store; each round one of
them (or, for -Mode Reader, one of two reader children while a writer keeps writing) is SIGKILLed at a random point
after it started working, and the parent then checks, in this process:
  - the next write goes through within 5 s (no lock timeout behind a dead holder);
  - MemStore.Verify finds no problem;
  - every acknowledged write is readable and whole: for each name, the value is self-checking and its sequence is the
    last acknowledged one or, for the killed writer, the one it was writing (Set/Grow); counters are within
    [acknowledged, acknowledged + updates that were in flight when their writer died] (Update);
  - readers never reported a value no writer wrote.
Returns the figures and a list of failures (empty when every promise held).
#>
function Invoke-FaultKillCampaign {
    param (
        [Parameter(Mandatory)] [string] $Store,
        [Parameter(Mandatory)] [ValidateSet('Set', 'Grow', 'Update', 'Reader')] [string] $Mode,
        [Parameter(Mandatory)] [int] $Kills,
        [int] $Writers = 2,
        [double] $WriteBoundSeconds = 5
    )
    $dir = New-FaultTempDirectory
    $failures = [System.Collections.Generic.List[string]]::new()
    $figures = [ordered]@{ Mode = $Mode; Kills = 0; WritersKilled = 0; ReadersKilled = 0; ValuesChecked = 0
        AcknowledgedWrites = 0; CountersChecked = 0; Verifies = 0; ReaderReads = 0; MaxNextWriteSeconds = 0.0
        GenerationsSeen = 0; BytesLost = 0L; Failures = 0 }
    $writerMode = if ($Mode -eq 'Reader') { 'Set' } else { $Mode }
    $sizeArgs = if ($Mode -eq 'Grow') { @('-MinSize', '65536', '-MaxSize', '786432', '-Names', '3') } else { @('-MinSize', '8', '-MaxSize', '4096') }
    $startGeneration = 0
    $slotState = @{}      # slot -> @{ Child; AckPath; NextSeq; Index }
    $readers = @{}        # index -> child
    $deadAckPaths = [System.Collections.Generic.List[string]]::new()
    $deadReaderReports = [System.Collections.Generic.List[string]]::new()
    $inflightUpdates = 0  # update writers killed (each may have committed one unacknowledged update)
    $random = [System.Random]::new()
    $writerCount = if ($Mode -eq 'Reader') { 1 } else { $Writers }

    $startWriter = {
        param ($slot)
        $state = $slotState[$slot]
        $ackPath = Join-Path $dir "w$slot-$($state.Index).ack"
        $state.Index++
        $arguments = @('-ModulePath', $script:FaultModulePath, '-Store', $Store, '-Mode', $writerMode, '-Slot', "$slot",
            '-AckPath', $ackPath, '-StartSeq', "$($state.NextSeq)") + $sizeArgs
        $state.StartSeq = $state.NextSeq
        $state.Child = Start-FaultChild -Script (Join-Path $script:FaultDir 'Writer.ps1') -ArgumentList $arguments `
            -LogPrefix ($ackPath -replace '\.ack$', '')
        $state.AckPath = $ackPath
    }
    $startReader = {
        param ($index)
        $reportPath = Join-Path $dir "r$index-$([guid]::NewGuid().ToString('N').Substring(0, 6)).report"
        $readers[$index] = Start-FaultChild -Script (Join-Path $script:FaultDir 'Reader.ps1') `
            -ArgumentList @('-ModulePath', $script:FaultModulePath, '-Store', $Store, '-ReportPath', $reportPath) `
            -LogPrefix ($reportPath -replace '\.report$', '')
        $readers[$index] | Add-Member -NotePropertyName ReportPath -NotePropertyValue $reportPath
    }
    # Acknowledged state, read incrementally (each file from where the last read stopped, complete lines only): last
    # sequence per name, highest sequence per slot, counter updates. Writers ack tens of thousands of writes.
    $acks = @{ Names = @{}; SlotMax = @{}; Inc = 0L; Sb = 0L; Writes = 0L; Errors = [System.Collections.Generic.List[string]]::new(); Offsets = @{} }
    $readAcks = {
        foreach ($p in @(@($deadAckPaths) + @($slotState.Values | ForEach-Object { $_.AckPath }) | Where-Object { $_ } | Select-Object -Unique)) {
            if (-not (Test-Path -LiteralPath $p)) { continue }
            $offset = if ($acks.Offsets.ContainsKey($p)) { $acks.Offsets[$p] } else { 0L }
            $stream = [System.IO.FileStream]::new($p, 'Open', 'Read', 'ReadWrite')
            try {
                $null = $stream.Seek($offset, 'Begin')
                $buffer = [byte[]]::new($stream.Length - $offset)
                $read = 0
                while ($read -lt $buffer.Length) {
                    $n = $stream.Read($buffer, $read, $buffer.Length - $read)
                    if ($n -le 0) { break }
                    $read += $n
                }
            }
            finally { $stream.Dispose() }
            if ($read -eq 0) { continue }
            $end = [Array]::LastIndexOf($buffer, [byte] 10, $read - 1)
            if ($end -lt 0) { continue }
            $acks.Offsets[$p] = $offset + $end + 1
            foreach ($line in [System.Text.Encoding]::UTF8.GetString($buffer, 0, $end).Split("`n")) {
                $f = $line.Split(' ')
                switch ($f[0]) {
                    'set' {
                        $acks.Writes++
                        $seq = [long] $f[2]
                        $acks.Names[$f[1]] = @{ Seq = $seq; Length = [int] $f[3] }
                        $slot = $f[1].Substring(1, $f[1].IndexOf('-') - 1)
                        if (-not $acks.SlotMax.ContainsKey($slot) -or $acks.SlotMax[$slot] -lt $seq) { $acks.SlotMax[$slot] = $seq }
                    }
                    'inc' { $acks.Inc++; $acks.Writes++ }
                    'sb' { $acks.Sb++; $acks.Writes++ }
                    'err' { $acks.Errors.Add($line) }
                }
            }
        }
    }
    # Working, not just started: a second line (the first acknowledged write, or the first reads) after "ready".
    $isReady = {
        param ($path)
        if (-not (Test-Path -LiteralPath $path)) { return $false }
        $stream = [System.IO.FileStream]::new($path, 'Open', 'Read', 'ReadWrite')
        try {
            $head = [byte[]]::new(512)
            $n = $stream.Read($head, 0, $head.Length)
        }
        finally { $stream.Dispose() }
        $first = [Array]::IndexOf($head, [byte] 10)
        $first -ge 0 -and $first + 1 -lt $n -and [Array]::IndexOf($head, [byte] 10, $first + 1) -ge 0 -and [Array]::IndexOf($head, [byte] 10, $first + 1) -lt $n
    }
    $checkChildAlive = {
        param ($child, $what)
        if ($child.Process.HasExited) {
            $failures.Add("$what exited on its own with code $($child.Process.ExitCode): $(Get-FaultChildLog $child)")
            return $false
        }
        $true
    }

    try {
        Set-MemStack -Name 'probe' -Value 0 -Store $Store -ErrorAction Stop
        $startGeneration = (Get-MemStore -Name $Store).Generation
        for ($s = 0; $s -lt $writerCount; $s++) {
            $slotState[$s] = @{ Child = $null; AckPath = $null; NextSeq = 1; StartSeq = 1; Index = 0; InFlight = [System.Collections.Generic.HashSet[long]]::new() }
            & $startWriter $s
        }
        if ($Mode -eq 'Reader') { & $startReader 0; & $startReader 1 }

        for ($k = 1; $k -le $Kills -and $failures.Count -lt 10; $k++) {
            # Choose the victim among children that are working; wait (bounded) for one.
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            $victim = $null
            while ($null -eq $victim -and [DateTime]::UtcNow -lt $deadline) {
                $candidates = if ($Mode -eq 'Reader') {
                    @($readers.Keys | Where-Object { & $isReady $readers[$_].ReportPath })
                }
                else {
                    @($slotState.Keys | Where-Object { & $isReady $slotState[$_].AckPath })
                }
                if ($candidates.Count -gt 0) { $victim = $candidates[$random.Next($candidates.Count)] }
                else { Start-Sleep -Milliseconds 50 }
            }
            foreach ($s in @($slotState.Keys)) {
                if (-not (& $checkChildAlive $slotState[$s].Child "writer slot $s")) { & $startWriter $s }
            }
            # A reader that died by itself (a crash on a value it read) is a failure, not a kill.
            foreach ($r in @($readers.Keys)) {
                if (-not (& $checkChildAlive $readers[$r] "reader $r")) { $deadReaderReports.Add($readers[$r].ReportPath); & $startReader $r }
            }
            if ($null -eq $victim) { $failures.Add('no child became ready within 90 s'); break }
            # A random point in the victim's loop.
            Start-Sleep -Milliseconds $random.Next(0, 400)

            if ($Mode -eq 'Reader') {
                $child = $readers[$victim]
                Stop-FaultChild $child
                $figures.ReadersKilled++
                $deadReaderReports.Add($child.ReportPath)
            }
            else {
                $state = $slotState[$victim]
                Stop-FaultChild $state.Child
                $figures.WritersKilled++
                if ($writerMode -eq 'Update') { $inflightUpdates++ }
                $deadAckPaths.Add($state.AckPath)
                # What the victim may have committed without acknowledging it: the write after its last ack.
                & $readAcks
                $max = $acks.SlotMax["$victim"]
                # (Its own acks start at StartSeq; an older SlotMax is a predecessor's, and then it was writing StartSeq.)
                $next = if ($null -ne $max -and $max + 1 -ge $state.StartSeq) { $max + 1 } else { $state.StartSeq }
                $null = $state.InFlight.Add($next)
                $state.NextSeq = $next + 1
            }
            $figures.Kills++

            # 1. The next write is not stuck behind the dead process.
            try {
                $seconds = Measure-FaultWrite -Store $Store -Name 'probe' -Value $k
                $figures.MaxNextWriteSeconds = [Math]::Max($figures.MaxNextWriteSeconds, [Math]::Round($seconds, 3))
                if ($seconds -gt $WriteBoundSeconds) { $failures.Add("kill ${k}: the next write took $seconds s") }
            }
            catch { $failures.Add("kill ${k}: the next write failed: $($_.FullyQualifiedErrorId) $($_.Exception.Message)") }

            # 2. Invariants.
            $report = Invoke-FaultVerify $Store
            $figures.Verifies++
            if (-not $report.IsValid) { $failures.Add("kill ${k}: Verify: $($report.Problems -join '; ')") }

            # 3. Acknowledged writes (ack files read before the values: live writers only move forward).
            & $readAcks
            foreach ($e in $acks.Errors) { $failures.Add("kill ${k}: a writer reported $e") }
            $acks.Errors.Clear()
            $figures.AcknowledgedWrites = $acks.Writes
            if ($writerMode -eq 'Update') {
                $incBefore = $acks.Inc
                $sbBefore = $acks.Sb
                $counter = Get-MemStack -Name 'counter' -Store $Store -ErrorAction SilentlyContinue
                $sb = Get-MemStack -Name 'sbcounter' -Store $Store -ErrorAction SilentlyContinue
                & $readAcks
                $live = $slotState.Count
                foreach ($pair in @(@('counter', $counter, $incBefore, $acks.Inc), @('sbcounter', $sb, $sbBefore, $acks.Sb))) {
                    $value = if ($null -eq $pair[1]) { 0 } else { $pair[1] }
                    $figures.CountersChecked++
                    if ($value -lt $pair[2]) {
                        $failures.Add("kill ${k}: $($pair[0]) = $value but $($pair[2]) updates were acknowledged (lost updates)")
                        $figures.BytesLost += 8
                    }
                    elseif ($value -gt $pair[3] + $inflightUpdates + $live) {
                        $failures.Add("kill ${k}: $($pair[0]) = $value exceeds acknowledged $($pair[3]) + in flight $($inflightUpdates + $live) (an update applied twice)")
                    }
                }
            }
            else {
                foreach ($name in @($acks.Names.Keys)) {
                    $acked = $acks.Names[$name]
                    $value = Get-MemStack -Name $name -Store $Store -ErrorAction SilentlyContinue
                    $figures.ValuesChecked++
                    $parsed = ConvertFrom-FaultValue $value
                    $state = $slotState[[int] $name.Substring(1, $name.IndexOf('-') - 1)]
                    if ($null -eq $parsed) {
                        $shown = if ($null -eq $value) { '<missing>' } else { "$value".Substring(0, [Math]::Min(60, "$value".Length)) }
                        $failures.Add("kill ${k}: $name (acknowledged seq $($acked.Seq)) reads as $shown")
                        $figures.BytesLost += $acked.Length
                    }
                    elseif ($parsed.Seq -lt $acked.Seq) {
                        $failures.Add("kill ${k}: $name went back to seq $($parsed.Seq) after seq $($acked.Seq) was acknowledged")
                        $figures.BytesLost += $acked.Length
                    }
                    elseif ($parsed.Seq -ne $acked.Seq -and -not $state.InFlight.Contains($parsed.Seq) -and
                        -not ($state.Child -and -not $state.Child.Process.HasExited -and $parsed.Seq -ge $state.StartSeq)) {
                        # Newer than acknowledged is fine only from a live writer or from a write in flight at a kill.
                        $failures.Add("kill ${k}: $name holds seq $($parsed.Seq): neither acknowledged ($($acked.Seq)) nor written by a live or killed-in-flight writer")
                    }
                }
            }
            $generation = (Get-MemStore -Name $Store).Generation
            $figures.GenerationsSeen = [long] $generation - [long] $startGeneration

            # 4. Replace the victim (a writer continues its slot past anything it may have committed unacknowledged).
            if ($Mode -eq 'Reader') { & $startReader $victim }
            else {
                & $startWriter $victim
            }
        }
    }
    finally {
        foreach ($state in $slotState.Values) {
            if ($state.Child) { $null = & $checkChildAlive $state.Child 'a writer'; Stop-FaultChild $state.Child }
        }
        foreach ($r in $readers.Values) { $null = & $checkChildAlive $r 'a reader'; Stop-FaultChild $r; $deadReaderReports.Add($r.ReportPath) }
    }

    # The final state, with every child dead: exact bounds.
    & $readAcks
    $figures.AcknowledgedWrites = $acks.Writes
    foreach ($e in $acks.Errors) { $failures.Add("a writer reported $e") }
    if ($writerMode -eq 'Update') {
        $inflightUpdates += $slotState.Count
        foreach ($pair in @(@('counter', $acks.Inc), @('sbcounter', $acks.Sb))) {
            $value = Get-MemStack -Name $pair[0] -Store $Store -ErrorAction SilentlyContinue
            if ($null -eq $value) { $value = 0 }
            $figures.CountersChecked++
            if ($value -lt $pair[1] -or $value -gt $pair[1] + $inflightUpdates) {
                $failures.Add("final: $($pair[0]) = $value, acknowledged $($pair[1]), at most $inflightUpdates in flight")
            }
        }
    }
    foreach ($p in $deadReaderReports) {
        $last = 0
        foreach ($line in (Read-FaultLine $p)) {
            if ($line -like 'bad *') { $failures.Add("reader: $line") }
            elseif ($line -like 'reads *') { $last = [long] $line.Split(' ')[1] }
        }
        $figures.ReaderReads += $last
    }
    $report = Invoke-FaultVerify $Store
    $figures.Verifies++
    if (-not $report.IsValid) { $failures.Add("final Verify: $($report.Problems -join '; ')") }
    $figures.Failures = $failures.Count
    if ($failures.Count -eq 0) { Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue }
    else { $failures.Add("logs kept in $dir") }
    [pscustomobject]@{ Figures = $figures; Failures = $failures }
}
