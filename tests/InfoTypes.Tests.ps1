# What Get-MemStackInfo and Get-MemStore emit is the core's StackInfo and StoreStatistics, property for property: a
# core property without a cmdlet counterpart (or a counterpart FromCore does not fill) fails here, so that the two can
# no longer drift apart (issue 11: MemStoreInfo.SegmentIds once lost the spare).
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $assembly = [Memalloc.MemStackInfo].Assembly
    # The core loads when first used: load it here, so that this file also passes when it runs first.
    $coreAssembly = [System.Reflection.Assembly]::LoadFrom((Join-Path (Split-Path $assembly.Location) 'Memalloc.Core.dll'))
    $nonPublicStatic = [System.Reflection.BindingFlags]'NonPublic,Static'

    function Get-PropertyName ([type] $Type) {
        $Type.GetProperties([System.Reflection.BindingFlags]'Public,Instance').Name | Sort-Object
    }
}

Describe 'The cmdlets'' info types mirror the core''s' {
    It '<Cmdlet> has a property for every property of <Core>' -TestCases @(
        # Encoding: the cmdlets write CliXml and read either encoding, so their users never need it
        # (docs/store-format.md, "Encodings"). Orphaned: Get-MemStore also lists orphaned segments.
        @{ Core = 'Memalloc.Core.StackInfo'; Cmdlet = 'Memalloc.MemStackInfo'; CoreOnly = @('Encoding'); CmdletOnly = @() }
        @{ Core = 'Memalloc.Core.StoreStatistics'; Cmdlet = 'Memalloc.MemStoreInfo'; CoreOnly = @(); CmdletOnly = @('Orphaned') }
        @{ Core = 'Memalloc.Core.LockInfo'; Cmdlet = 'Memalloc.MemLockInfo'; CoreOnly = @(); CmdletOnly = @() }
    ) {
        param ($Core, $Cmdlet, $CoreOnly, $CmdletOnly)
        $coreNames = Get-PropertyName $coreAssembly.GetType($Core, $true)
        $cmdletNames = Get-PropertyName $assembly.GetType($Cmdlet, $true)
        $coreNames | Where-Object { $_ -notin $cmdletNames -and $_ -notin $CoreOnly } | Should -BeNullOrEmpty
        $cmdletNames | Where-Object { $_ -notin $coreNames -and $_ -notin $CmdletOnly } | Should -BeNullOrEmpty
    }

    It 'fills every MemStackInfo property from StackInfo, times as local time' {
        $created = [datetime]::SpecifyKind([datetime] '2026-01-02T03:04:05.678', 'Utc')
        $info = [Memalloc.Core.StackInfo]@{
            Name = 'n'; Store = 's'; Size = 11; TypeName = 'System.Int32'; Encoding = 'CliXml'
            Created = $created; Modified = $created.AddMinutes(1); Expires = $created.AddHours(1); Version = 42
        }
        $result = [Memalloc.MemStackInfo].GetMethod('FromCore', $nonPublicStatic).Invoke($null, @($info))
        foreach ($name in Get-PropertyName ([Memalloc.MemStackInfo])) {
            $expected = $info.$name
            if ($expected -is [datetime]) { $expected = $expected.ToLocalTime() }
            $result.$name | Should -Be $expected -Because $name
        }

        $result.Created.Kind | Should -Be 'Local'
    }

    It 'fills every MemStoreInfo property from StoreStatistics' {
        $statistics = [Memalloc.Core.StoreStatistics]@{
            Name = 's'; Key = 7; SegmentIds = [int[]] @(1, 2, 3); Capacity = 10; MaxCapacity = 20; BytesUsed = 4; BytesFree = 6
            Entries = 2; ExpiredEntries = 1; Generation = 5; Permissions = 'rw-------'; OwnerUid = 1000; Owner = 'me'
            Warnings = [string[]] @('w1', 'w2')
        }
        $result = [Memalloc.MemStoreInfo].GetMethod('FromCore', $nonPublicStatic).Invoke($null, @($statistics))
        foreach ($name in Get-PropertyName $coreAssembly.GetType('Memalloc.Core.StoreStatistics', $true)) {
            @($result.$name) | Should -Be @($statistics.$name) -Because $name
        }

        $result.Orphaned | Should -BeFalse
    }
}
