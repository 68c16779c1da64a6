# The one helper that turns a core failure into an ErrorRecord (MemallocErrors): every MemStoreErrorKind,
# and every errno a NativeFailure can carry, maps to one stable id and category.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $assembly = [Memalloc.MemStackInfo].Assembly
    $Errors = $assembly.GetType('Memalloc.MemallocErrors', $true)
    $Kind = [Memalloc.Core.MemStoreErrorKind]
}

Describe 'MemallocErrors' {
    It 'maps <Kind> to id <Id> and category <Category>' -TestCases @(
        @{ Kind = 'InvalidName'; Id = 'InvalidName'; Category = 'InvalidArgument' }
        @{ Kind = 'InvalidStoreName'; Id = 'InvalidStoreName'; Category = 'InvalidArgument' }
        @{ Kind = 'InvalidArgument'; Id = 'InvalidArgument'; Category = 'InvalidArgument' }
        @{ Kind = 'StoreNotFound'; Id = 'MemStoreNotFound'; Category = 'ObjectNotFound' }
        @{ Kind = 'CapacityExceeded'; Id = 'StoreFull'; Category = 'LimitsExceeded' }
        @{ Kind = 'ForeignSegment'; Id = 'ForeignSegment'; Category = 'PermissionDenied' }
        @{ Kind = 'PermissionDenied'; Id = 'PermissionDenied'; Category = 'PermissionDenied' }
        @{ Kind = 'Corrupt'; Id = 'StoreCorrupt'; Category = 'InvalidData' }
        @{ Kind = 'StoreRemoved'; Id = 'StoreRemoved'; Category = 'ResourceUnavailable' }
        @{ Kind = 'PlatformNotSupported'; Id = 'PlatformNotSupported'; Category = 'NotImplemented' }
        @{ Kind = 'NativeFailure'; Id = 'NativeFailure'; Category = 'NotSpecified' }
        @{ Kind = 'StoreBusy'; Id = 'StoreBusy'; Category = 'ResourceBusy' }
    ) {
        param ($Kind, $Id, $Category)
        $exception = [Memalloc.Core.MemStoreException]::new([Memalloc.Core.MemStoreErrorKind] $Kind, 'test')
        $record = $Errors.GetMethod('FromStoreException').Invoke($null, @($exception, 'target'))
        $record.FullyQualifiedErrorId | Should -BeExactly $Id
        $record.CategoryInfo.Category | Should -Be $Category
        $record.TargetObject | Should -BeExactly 'target'
        $record.Exception | Should -Be $exception
    }

    It 'maps a native failure with errno <Errno> to <Category>' -TestCases @(
        @{ Errno = 13; Category = 'PermissionDenied' }
        @{ Errno = 1; Category = 'PermissionDenied' }
        @{ Errno = 2; Category = 'ObjectNotFound' }
        @{ Errno = 22; Category = 'InvalidArgument' }
        @{ Errno = 12; Category = 'LimitsExceeded' }
        @{ Errno = 28; Category = 'LimitsExceeded' }
        @{ Errno = 5; Category = 'NotSpecified' }
    ) {
        param ($Errno, $Category)
        $exception = [Memalloc.Core.MemStoreException]::new([Memalloc.Core.MemStoreErrorKind]::NativeFailure, 'test', 'shmget', $Errno)
        $record = $Errors.GetMethod('FromStoreException').Invoke($null, @($exception, $null))
        $record.FullyQualifiedErrorId | Should -BeExactly 'NativeFailure'
        $record.CategoryInfo.Category | Should -Be $Category
    }

    It 'has an id for every kind the core defines' {
        foreach ($value in [Enum]::GetValues($Kind)) {
            $Errors.GetMethod('ErrorId').Invoke($null, @($value)) | Should -Not -BeNullOrEmpty
        }
    }

    It 'stops the command only for invalid names and a missing platform' {
        $terminating = foreach ($value in [Enum]::GetValues($Kind)) {
            $exception = [Memalloc.Core.MemStoreException]::new($value, 'test')
            if ($Errors.GetMethod('IsTerminating').Invoke($null, @($exception))) { "$value" }
        }
        $terminating | Should -Be @('InvalidName', 'InvalidStoreName', 'PlatformNotSupported')
    }
}
