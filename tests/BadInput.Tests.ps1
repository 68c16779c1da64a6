#Requires -Version 7.4
# Bad input, table-driven: every case asserts the error id (FullyQualifiedErrorId = '<Id>,<cmdlet class>'), the
# category, whether it terminates where the design says so, and that the store is unchanged (names, versions, sizes,
# types, expiry and every value, before and after).

BeforeDiscovery {
    $tooLongAscii = 'n' * 256
    $tooLongAccent = [string]::new([char] 0xE9, 128)              # 'é' x 128 = 256 UTF-8 bytes
    $tooLongEuro = [string]::new([char] 0x20AC, 85) + 'a'          # 255 + 1 bytes
    $serializationFailure = {
        # An enumerable whose GetEnumerator throws: PSSerializer fails on it (a ScriptProperty whose getter throws is
        # not a failure: the serializer skips such a property and stores the rest).
        Add-Type -TypeDefinition 'public sealed class MemallocBadEnumerable : System.Collections.IEnumerable { public System.Collections.IEnumerator GetEnumerator() { throw new System.InvalidOperationException("enumeration refused"); } }' -ErrorAction SilentlyContinue
        # The unary comma keeps the pipeline from enumerating it here, before Set-MemStack sees it.
        , [MemallocBadEnumerable]::new()
    }

    $script:Cases = @(
        # ---- stack names ----
        @{ Scenario = 'Set-MemStack, empty name'; Cmdlet = 'Set-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name '' -Value 1 -Store $s } }
        @{ Scenario = 'Set-MemStack, 256 ASCII bytes'; Cmdlet = 'Set-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = [scriptblock]::Create("param (`$s) Set-MemStack -Name '$tooLongAscii' -Value 1 -Store `$s") }
        @{ Scenario = 'Set-MemStack, 128 x é (256 UTF-8 bytes)'; Cmdlet = 'Set-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = [scriptblock]::Create("param (`$s) Set-MemStack -Name '$tooLongAccent' -Value 1 -Store `$s") }
        @{ Scenario = 'Set-MemStack, 85 x € + a (256 UTF-8 bytes)'; Cmdlet = 'Set-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = [scriptblock]::Create("param (`$s) Set-MemStack -Name '$tooLongEuro' -Value 1 -Store `$s") }
        @{ Scenario = 'Set-MemStack, tab in the name'; Cmdlet = 'Set-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name "a`tb" -Value 1 -Store $s } }
        @{ Scenario = 'Set-MemStack, NUL in the name'; Cmdlet = 'Set-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name "a`0b" -Value 1 -Store $s } }
        @{ Scenario = 'Set-MemStack, newline in the name'; Cmdlet = 'Set-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name "alpha`n" -Value 1 -Store $s } }
        @{ Scenario = 'Set-MemStack, DEL (U+007F) in the name'; Cmdlet = 'Set-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name "a$([char] 0x7F)b" -Value 1 -Store $s } }
        @{ Scenario = 'Set-MemStack, C1 control (U+0085) in the name'; Cmdlet = 'Set-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name "a$([char] 0x85)b" -Value 1 -Store $s } }
        @{ Scenario = 'Set-MemStack, lone high surrogate'; Cmdlet = 'Set-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name "a$([char] 0xD800)b" -Value 1 -Store $s } }
        @{ Scenario = 'Set-MemStack, lone low surrogate'; Cmdlet = 'Set-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name "a$([char] 0xDC00)" -Value 1 -Store $s } }
        @{ Scenario = 'Set-MemStack, surrogates in the wrong order'; Cmdlet = 'Set-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name "$([char] 0xDC00)$([char] 0xD800)" -Value 1 -Store $s } }
        @{ Scenario = 'Get-MemStack, control character'; Cmdlet = 'Get-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Get-MemStack -Name "al`apha" -Store $s } }
        @{ Scenario = 'Get-MemStack, 256-byte name'; Cmdlet = 'Get-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = [scriptblock]::Create("param (`$s) Get-MemStack -Name '$tooLongAccent' -Store `$s") }
        @{ Scenario = 'Remove-MemStack, lone surrogate'; Cmdlet = 'Remove-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Remove-MemStack -Name "alpha$([char] 0xD800)" -Store $s -Confirm:$false } }
        @{ Scenario = 'Test-MemStack, control character'; Cmdlet = 'Test-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Test-MemStack -Name "a`rb" -Store $s } }
        @{ Scenario = 'Update-MemStack, 256-byte name'; Cmdlet = 'Update-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = [scriptblock]::Create("param (`$s) Update-MemStack -Name '$tooLongAscii' -Increment 1 -Store `$s") }
        @{ Scenario = 'Get-MemStackInfo, control character'; Cmdlet = 'Get-MemStackInfo'; Id = 'InvalidName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Get-MemStackInfo -Name "a`bb" -Store $s } }
        # ---- names from the pipeline ----
        @{ Scenario = 'Get-MemStack, $null from the pipeline'; Cmdlet = 'Get-MemStack'; Id = 'ParameterArgumentValidationErrorNullNotAllowed'; Category = 'InvalidData'
            Action = { param ($s) $null | Get-MemStack -Store $s } }
        @{ Scenario = 'Get-MemStack, empty string from the pipeline'; Cmdlet = 'Get-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'
            Action = { param ($s) '' | Get-MemStack -Store $s } }
        @{ Scenario = 'Remove-MemStack, empty Name property from the pipeline'; Cmdlet = 'Remove-MemStack'; Id = 'InvalidName'; Category = 'InvalidArgument'
            Action = { param ($s) [pscustomobject]@{ Name = '' } | Remove-MemStack -Store $s -Confirm:$false } }
        @{ Scenario = 'Remove-MemStack, $null Name property from the pipeline'; Cmdlet = 'Remove-MemStack'; Id = 'ParameterArgumentValidationErrorNullNotAllowed'; Category = 'InvalidData'
            Action = { param ($s) [pscustomobject]@{ Name = $null } | Remove-MemStack -Store $s -Confirm:$false } }
        # ---- store names ----
        # -Store carries [ValidateNotNullOrEmpty]: the binder refuses '' before the store's own check (InvalidStoreName).
        @{ Scenario = 'Set-MemStack, empty store name'; Cmdlet = 'Set-MemStack'; Id = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name 'alpha' -Value 1 -Store '' } }
        @{ Scenario = "Set-MemStack, store name '../x'"; Cmdlet = 'Set-MemStack'; Id = 'InvalidStoreName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name 'alpha' -Value 1 -Store '../x' } }
        @{ Scenario = "Set-MemStack, store name 'a b'"; Cmdlet = 'Set-MemStack'; Id = 'InvalidStoreName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name 'alpha' -Value 1 -Store 'a b' } }
        @{ Scenario = 'Set-MemStack, 65-character store name'; Cmdlet = 'Set-MemStack'; Id = 'InvalidStoreName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name 'alpha' -Value 1 -Store ('s' * 65) } }
        @{ Scenario = "Get-MemStack, store name 'a/b'"; Cmdlet = 'Get-MemStack'; Id = 'InvalidStoreName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Get-MemStack -Name 'alpha' -Store 'a/b' } }
        @{ Scenario = 'Get-MemStackInfo, store name with NUL'; Cmdlet = 'Get-MemStackInfo'; Id = 'InvalidStoreName'; Category = 'InvalidArgument'; Terminating = $true
            Action = { param ($s) Get-MemStackInfo -Store "x`0y" } }
        @{ Scenario = "Get-MemStore, store name '../x'"; Cmdlet = 'Get-MemStore'; Id = 'InvalidStoreName'; Category = 'InvalidArgument'
            Action = { param ($s) Get-MemStore -Name '../x' } }
        @{ Scenario = "Remove-MemStore, store name 'a b'"; Cmdlet = 'Remove-MemStore'; Id = 'InvalidStoreName'; Category = 'InvalidArgument'
            Action = { param ($s) Remove-MemStore -Name 'a b' -Force -Confirm:$false } }
        # ---- time to live ----
        @{ Scenario = 'Set-MemStack, negative time to live'; Cmdlet = 'Set-MemStack'; Id = 'InvalidTimeToLive'; Category = 'InvalidArgument'
            Action = { param ($s) Set-MemStack -Name 'alpha' -Value 'changed' -TimeToLive ([TimeSpan]::FromSeconds(-1)) -Store $s } }
        @{ Scenario = 'Set-MemStack, zero time to live'; Cmdlet = 'Set-MemStack'; Id = 'InvalidTimeToLive'; Category = 'InvalidArgument'
            Action = { param ($s) Set-MemStack -Name 'alpha' -Value 'changed' -TimeToLive ([TimeSpan]::Zero) -Store $s } }
        @{ Scenario = 'Set-MemStack, TimeSpan.MaxValue time to live'; Cmdlet = 'Set-MemStack'; Id = 'InvalidTimeToLive'; Category = 'InvalidArgument'
            Action = { param ($s) Set-MemStack -Name 'alpha' -Value 'changed' -TimeToLive ([TimeSpan]::MaxValue) -Store $s } }
        @{ Scenario = 'Set-MemStack, TimeSpan.MinValue time to live'; Cmdlet = 'Set-MemStack'; Id = 'InvalidTimeToLive'; Category = 'InvalidArgument'
            Action = { param ($s) Set-MemStack -Name 'alpha' -Value 'changed' -TimeToLive ([TimeSpan]::MinValue) -Store $s } }
        # ---- depth ----
        @{ Scenario = 'Set-MemStack, -Depth 0'; Cmdlet = 'Set-MemStack'; Id = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name 'alpha' -Value 'changed' -Depth 0 -Store $s } }
        @{ Scenario = 'Set-MemStack, -Depth -1'; Cmdlet = 'Set-MemStack'; Id = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name 'alpha' -Value 'changed' -Depth -1 -Store $s } }
        @{ Scenario = 'Set-MemStack, -Depth beyond the maximum'; Cmdlet = 'Set-MemStack'; Id = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Terminating = $true
            Action = { param ($s) Set-MemStack -Name 'alpha' -Value 'changed' -Depth ([int]::MaxValue) -Store $s } }
        # ---- values ----
        @{ Scenario = 'Set-MemStack, value larger than the maximum capacity'; Cmdlet = 'Set-MemStack'; Id = 'StoreFull'; Category = 'LimitsExceeded'; Small = $true
            Action = { param ($s) Set-MemStack -Name 'huge' -Value ('h' * 3MB) -Store $s } }
        @{ Scenario = 'Set-MemStack, overwrite with a value larger than the maximum capacity'; Cmdlet = 'Set-MemStack'; Id = 'StoreFull'; Category = 'LimitsExceeded'; Small = $true
            Action = { param ($s) Set-MemStack -Name 'keep' -Value ('h' * 3MB) -Store $s } }
        @{ Scenario = 'Set-MemStack, an object that fails to serialise'; Cmdlet = 'Set-MemStack'; Id = 'SerializationFailed'; Category = 'InvalidData'
            Action = [scriptblock]::Create("param (`$s) `$v = & { $serializationFailure }; Set-MemStack -Name 'alpha' -Value `$v -Store `$s") }
        @{ Scenario = 'Set-MemStack -NoClobber on an existing stack'; Cmdlet = 'Set-MemStack'; Id = 'MemStackExists'; Category = 'ResourceExists'
            Action = { param ($s) Set-MemStack -Name 'alpha' -Value 'changed' -NoClobber -Store $s } }
        @{ Scenario = 'Update-MemStack, a script block that throws'; Cmdlet = 'Update-MemStack'; Id = '*'; Category = '*'; Message = 'update refused'
            Action = { param ($s) Update-MemStack -Name 'alpha' -ScriptBlock { throw 'update refused' } -Store $s } }
        @{ Scenario = 'Update-MemStack, a script block that throws on a missing stack'; Cmdlet = 'Update-MemStack'; Id = '*'; Category = '*'; Message = 'update refused'
            Action = { param ($s) Update-MemStack -Name 'not-there' -ScriptBlock { throw 'update refused' } -InitialValue 1 -Store $s } }
        @{ Scenario = 'Update-MemStack -Increment on a string'; Cmdlet = 'Update-MemStack'; Id = 'NotANumber'; Category = 'InvalidOperation'
            Action = { param ($s) Update-MemStack -Name 'alpha' -Increment 1 -Store $s } }
        @{ Scenario = 'Update-MemStack -Increment on a hashtable'; Cmdlet = 'Update-MemStack'; Id = 'NotANumber'; Category = 'InvalidOperation'
            Action = { param ($s) Update-MemStack -Name 'table' -Increment 1 -Store $s } }
        @{ Scenario = 'Update-MemStack -Increment on an array'; Cmdlet = 'Update-MemStack'; Id = 'NotANumber'; Category = 'InvalidOperation'
            Action = { param ($s) Update-MemStack -Name 'list' -Increment 1 -Store $s } }
        # ---- missing things ----
        @{ Scenario = 'Get-MemStack, a missing exact name'; Cmdlet = 'Get-MemStack'; Id = 'MemStackNotFound'; Category = 'ObjectNotFound'; Terminating = $false
            Action = { param ($s) Get-MemStack -Name 'not-there' -Store $s } }
        @{ Scenario = 'Remove-MemStack, a missing exact name'; Cmdlet = 'Remove-MemStack'; Id = 'MemStackNotFound'; Category = 'ObjectNotFound'; Terminating = $false
            Action = { param ($s) Remove-MemStack -Name 'not-there' -Store $s -Confirm:$false } }
        @{ Scenario = 'Get-MemStore, a missing store'; Cmdlet = 'Get-MemStore'; Id = 'MemStoreNotFound'; Category = 'ObjectNotFound'; Terminating = $false
            Action = { param ($s) Get-MemStore -Name "$s-missing" } }
        @{ Scenario = 'Remove-MemStore, a missing store'; Cmdlet = 'Remove-MemStore'; Id = 'MemStoreNotFound'; Category = 'ObjectNotFound'; Terminating = $false
            Action = { param ($s) Remove-MemStore -Name "$s-missing" -Force -Confirm:$false } }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'faults' 'FaultHelpers.ps1')
    $script:Store = New-TestStoreName 'bad'
    $script:SmallStore = New-TestStoreName 'badsmall'
    Set-MemStack -Name 'alpha' -Value 'one' -Store $script:Store
    Set-MemStack -Name 'counter' -Value 41 -Store $script:Store
    Set-MemStack -Name 'list' -Value @(1, 2, 3) -Store $script:Store
    Set-MemStack -Name 'table' -Value @{ a = 1; b = 'two' } -Store $script:Store
    Set-MemStack -Name 'expiring' -Value 'later' -TimeToLive ([TimeSpan]::FromHours(1)) -Store $script:Store
    # A store with a small maximum: 2 MiB, fixed at creation (the option the core reads, as MEMALLOC_MAX_CAPACITY).
    $small = [Memalloc.Core.MemStore]::Open($script:SmallStore, [Memalloc.Core.MemStoreOptions]@{ InitialCapacity = 1MB; MaxCapacity = 2MB })
    $small.Dispose()
    Set-MemStack -Name 'keep' -Value 'small but kept' -Store $script:SmallStore

    function Invoke-BadInput([scriptblock] $Action, [string] $Store) {
        $ErrorActionPreference = 'Continue'
        $terminating = $false
        $records = @()
        try {
            $records = @(& $Action $Store 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        }
        catch {
            $terminating = $true
            $records = @($_)
        }
        [pscustomobject]@{ Terminating = $terminating; Errors = $records }
    }
}

AfterAll {
    Remove-TestStore $script:Store, $script:SmallStore
    if ($env:MEMALLOC_FAULTS_REPORT) {
        Write-FaultFigure 'bad-input' ([ordered]@{ InputsTried = $script:Tried; InputsPassed = $script:Passed })
    }
}

Describe 'Bad input' -Tag 'BadInput' {
    BeforeAll {
        $script:Tried = 0
        $script:Passed = 0
    }

    It '<Scenario>' -TestCases $Cases {
        param ($Scenario, $Cmdlet, $Id, $Category, $Terminating, $Action, $Small, $Message)
        $script:Tried++
        $store = if ($Small) { $script:SmallStore } else { $script:Store }
        $before = Get-FaultSnapshot $script:Store
        $beforeSmall = Get-FaultSnapshot $script:SmallStore

        $result = Invoke-BadInput $Action $store

        $result.Errors.Count | Should -BeGreaterThan 0 -Because 'bad input must be an error'
        $record = $result.Errors[0]
        $class = 'Memalloc.Commands.{0}Command' -f ($Cmdlet -replace '-', '')
        if ($Id -ne '*') { $record.FullyQualifiedErrorId | Should -Be "$Id,$class" }
        if ($Category -ne '*') { "$($record.CategoryInfo.Category)" | Should -Be $Category }
        $record.Exception.Message | Should -Not -BeNullOrEmpty
        if ($Message) { $record.Exception.Message | Should -Match ([regex]::Escape($Message)) }
        if ($null -ne $Terminating) { $result.Terminating | Should -Be $Terminating }

        Get-FaultSnapshot $script:Store | Should -BeExactly $before -Because 'a refused call leaves the store unchanged'
        Get-FaultSnapshot $script:SmallStore | Should -BeExactly $beforeSmall -Because 'a refused call leaves the store unchanged'
        (Invoke-FaultVerify $script:Store).IsValid | Should -BeTrue
        $script:Passed++
    }

    It 'says, for a value past the maximum capacity, how big it was, what is free and which kernel setting limits it' {
        $result = Invoke-BadInput { param ($s) Set-MemStack -Name 'huge' -Value ('h' * 3MB) -Store $s } $script:SmallStore
        $message = $result.Errors[0].Exception.Message
        $message | Should -Match '\d'
        # What limits the store's arenas: the System V settings, or /dev/shm for POSIX arenas (the emulated-Mac pass).
        $limit = if ((Get-MemStore -Name $script:SmallStore).ArenaBacking -eq 'SystemV') { 'shmmax|shmall' } else { '/dev/shm' }
        $message | Should -Match $limit
        Get-MemStack -Name 'keep' -Store $script:SmallStore | Should -Be 'small but kept'
    }

}
