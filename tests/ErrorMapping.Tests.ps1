# The one helper that turns a core failure into an ErrorRecord (MemallocErrors): every MemStoreErrorKind maps to one
# stable id and category, and a failed system call gets its kind from the core's one errno classifier.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $assembly = [Memalloc.MemStackInfo].Assembly
    $Errors = $assembly.GetType('Memalloc.MemallocErrors', $true)
    # The core loads when first used: load it here, so that this file also passes when it runs first.
    $core = [System.Reflection.Assembly]::LoadFrom((Join-Path (Split-Path $assembly.Location) 'Memalloc.Core.dll'))
    $Kind = $core.GetType('Memalloc.Core.MemStoreErrorKind', $true)
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

    # The core classifies an errno once (Libc.Classify); the cmdlets map the kind it gives and never see the errno.
    It 'maps a failed system call with errno <Errno> to id <Id> and category <Category>' -TestCases @(
        @{ Errno = 13; Id = 'PermissionDenied'; Category = 'PermissionDenied' }
        @{ Errno = 1; Id = 'PermissionDenied'; Category = 'PermissionDenied' }
        @{ Errno = 12; Id = 'StoreFull'; Category = 'LimitsExceeded' }
        @{ Errno = 28; Id = 'StoreFull'; Category = 'LimitsExceeded' }
        @{ Errno = 2; Id = 'NativeFailure'; Category = 'NotSpecified' }
        @{ Errno = 22; Id = 'NativeFailure'; Category = 'NotSpecified' }
        @{ Errno = 5; Id = 'NativeFailure'; Category = 'NotSpecified' }
    ) {
        param ($Errno, $Id, $Category)
        $libc = [Memalloc.Core.MemStore].Assembly.GetType('Memalloc.Core.Native.Libc', $true)
        $exception = $libc.GetMethod('Failure', [System.Reflection.BindingFlags]'NonPublic,Static').Invoke($null, @('shmat', $Errno, 'Attaching', $false))
        $exception.Errno | Should -Be $Errno
        $record = $Errors.GetMethod('FromStoreException').Invoke($null, @($exception, $null))
        $record.FullyQualifiedErrorId | Should -BeExactly $Id
        $record.CategoryInfo.Category | Should -Be $Category
    }

    It 'maps a refused segment creation (errno <Errno>) to StoreFull' -TestCases @(
        @{ Errno = 22 }
        @{ Errno = 12 }
        @{ Errno = 28 }
    ) {
        param ($Errno)
        $libc = [Memalloc.Core.MemStore].Assembly.GetType('Memalloc.Core.Native.Libc', $true)
        $exception = $libc.GetMethod('CreationFailure', [System.Reflection.BindingFlags]'NonPublic,Static').Invoke($null, @($Errno, [long] 4096, 'Creating'))
        $record = $Errors.GetMethod('FromStoreException').Invoke($null, @($exception, $null))
        $record.FullyQualifiedErrorId | Should -BeExactly 'StoreFull'
        $record.CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $exception.Message | Should -BeLike '*refused a shared memory segment of 4096 bytes*'
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
