# Dot-sourced in every Pester file's BeforeAll. tools/PesterTest.ps1 runs Pester in its own pwsh whose PSModulePath
# starts with out/, so 'Memalloc' is the built module, never the source tree.
Import-Module Memalloc -ErrorAction Stop

$script:Pwsh = Join-Path $PSHOME 'pwsh'

# Every test file works in its own store so that files (and other engineers on this machine) never collide.
# -Tag says which suite made it ('pester-bad-...'), for whoever finds one left behind.
function New-TestStoreName {
    param ([string] $Tag)
    $prefix = if ($Tag) { "pester-$Tag" } else { 'pester' }
    "$prefix-$([guid]::NewGuid().ToString('N').Substring(0, 12))"
}

# The redis-server instances of the run (tests/TestRedis.psm1): one import per session, shared by every suite.
Import-Module (Join-Path $PSScriptRoot 'TestRedis.psm1') -Global

# A new store of the backend a suite runs on: the suites that take a -Backend parameter (tools/PesterTest.ps1 runs them
# once per backend) make their stores with this, so the same cases run on shared memory, a standalone Redis server (ACL
# user and password) and a three-node Redis Cluster.
function New-TestStore {
    param ([string] $Tag, [ValidateSet('SharedMemory', 'Redis', 'RedisCluster')] [string] $Backend = 'SharedMemory')
    $name = New-TestStoreName -Tag $Tag
    switch ($Backend) {
        'Redis' {
            $connection = Get-TestRedisConnection
            Register-MemStore -Name $name -Redis $connection.ConnectionString -Credential $connection.Credential -ErrorAction Stop 6>$null
        }
        'RedisCluster' {
            Register-MemStore -Name $name -Redis (Get-TestRedisCluster).ConnectionString -ErrorAction Stop 6>$null
        }
    }
    $name
}

# Removes stores whatever state a test left them in: through the cmdlet, then through the core for a store
# too damaged for it (the fault suites corrupt stores on purpose). A Redis store is emptied, then unregistered.
function Remove-TestStore {
    param ([string[]] $Name)
    foreach ($storeName in $Name) {
        if (-not $storeName) { continue }
        Remove-MemStore -Name $storeName -Force -Confirm:$false -ErrorAction SilentlyContinue
        Unregister-MemStore -Name $storeName -ErrorAction SilentlyContinue
        try { $null = [Memalloc.Core.MemStore]::DestroyStore($storeName) } catch { Write-Verbose "DestroyStore($storeName): $_" }
    }
}

# A command line for a child pwsh that imports the module first. -EncodedCommand avoids every quoting trap.
function Get-ChildPwshArgument {
    param ([Parameter(Mandatory)] [string] $Command)
    $script = "`$ErrorActionPreference = 'Stop'; Import-Module Memalloc; $Command"
    @('-NoProfile', '-NonInteractive', '-EncodedCommand',
        [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script)))
}

# Runs a command in a separate pwsh process (it inherits PSModulePath) and returns its output lines;
# a failing child fails the test with its error output.
function Invoke-ChildPwsh {
    param ([Parameter(Mandatory)] [string] $Command)
    $output = & $script:Pwsh @(Get-ChildPwshArgument $Command) 2>&1
    if ($LASTEXITCODE -ne 0) {
        throw "Child pwsh failed with exit code ${LASTEXITCODE}: $($output -join [Environment]::NewLine)"
    }
    $output | ForEach-Object { "$_" }
}

# Starts a child pwsh without waiting; pair with Wait-ChildPwsh.
function Start-ChildPwsh {
    param ([Parameter(Mandatory)] [string] $Command)
    $startInfo = [System.Diagnostics.ProcessStartInfo]::new($script:Pwsh)
    foreach ($argument in Get-ChildPwshArgument $Command) { $startInfo.ArgumentList.Add($argument) }
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($startInfo)
    [pscustomobject]@{
        Process = $process
        Output  = $process.StandardOutput.ReadToEndAsync()
        Errors  = $process.StandardError.ReadToEndAsync()
    }
}

function Wait-ChildPwsh {
    param ([Parameter(Mandatory, ValueFromPipeline)] [object[]] $Child)
    process {
        foreach ($item in $Child) {
            $item.Process.WaitForExit()
            $stdout = $item.Output.GetAwaiter().GetResult()
            $stderr = $item.Errors.GetAwaiter().GetResult()
            if ($item.Process.ExitCode -ne 0) {
                throw "Child pwsh failed with exit code $($item.Process.ExitCode): $stdout $stderr"
            }
            $stdout -split '\r?\n' | Where-Object { $_ }
        }
    }
}

# Waits until a child started with Start-ChildPwsh is waiting (the condition, e.g. the store counts a waiter), and fails
# at once with the child's exit code and output if it ended first: a waiter that died must not read as a slow one.
function Wait-ChildWaiting {
    param ([Parameter(Mandatory)] [object] $Child, [Parameter(Mandatory)] [scriptblock] $Waiting)
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while (-not $Child.Process.HasExited -and -not (& $Waiting) -and [DateTime]::UtcNow -lt $deadline) {
        Start-Sleep -Milliseconds 50
    }
    if ($Child.Process.HasExited) {
        $output = "$($Child.Output.GetAwaiter().GetResult()) $($Child.Errors.GetAwaiter().GetResult())".Trim()
        throw "Child pwsh ended with exit code $($Child.Process.ExitCode) before it was waiting: $output"
    }
    & $Waiting | Should -BeTrue -Because 'the child should be waiting within 60 s'
}

# The output (and errors) of a job once it has ended, then the job removed. Not `Receive-Job -Wait -AutoRemoveJob`:
# on a thread job that ends while it waits, that sometimes removes the job twice and fails with "Job repository does
# not contain an item with ID" (seen once in CI, in Use-MemLock.Tests), whatever the job did.
function Receive-EndedJob {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory, ValueFromPipeline)] [System.Management.Automation.Job] $Job,
        [int] $TimeoutSeconds = 120
    )
    process {
        if (-not ($Job | Wait-Job -Timeout $TimeoutSeconds)) {
            $Job | Stop-Job
            $Job | Remove-Job -Force
            throw "The job did not end within $TimeoutSeconds s."
        }
        $Job | Receive-Job
        $Job | Remove-Job -Force
    }
}

# The System V segments of this IPC namespace as the kernel lists them (/proc/sysvipc/shm), keyed by shmid: what the
# tests check the store's segments against, read apart from the store's own parser.
function Get-SysVSegment {
    $segments = @{}
    Get-Content -LiteralPath /proc/sysvipc/shm | Select-Object -Skip 1 | ForEach-Object {
        $fields = -split $_
        $segments[[int] $fields[1]] = [pscustomobject]@{ Key = [int] $fields[0]; ShmId = [int] $fields[1]; Size = [long] $fields[3]; Uid = [long] $fields[7] }
    }
    $segments
}

# Waits until a condition holds, without ever asserting on elapsed time: the timeout only stops a
# hung test, and the caller asserts on the condition, not on the clock.
function Wait-Until {
    param (
        [Parameter(Mandatory)] [scriptblock] $Condition,
        [int] $TimeoutSeconds = 60
    )
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { return $false }
        Start-Sleep -Milliseconds 50
    }
    $true
}

# Completion as the console does it: the completion texts offered at the end of the input.
function Get-CompletionText {
    param ([Parameter(Mandatory)] [string] $InputScript)
    (TabExpansion2 -inputScript $InputScript -cursorColumn $InputScript.Length).CompletionMatches.CompletionText
}
