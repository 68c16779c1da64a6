@{
    RootModule           = 'Memalloc.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0c3f63-6f0e-4d55-9a0b-2f4d8e6c1a11'
    Author               = 'Memalloc contributors'
    CompanyName          = 'Memalloc'
    Copyright            = '(c) Memalloc contributors. MIT License.'
    Description          = 'Share named values between PowerShell runspaces and pwsh processes of one user through System V shared memory: lock-free reads, crash-robust writes, CliXml round trips. Linux and macOS.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('Memalloc.Format.ps1xml')
    CmdletsToExport      = @(
        'Set-MemStack'
        'Get-MemStack'
        'Remove-MemStack'
        'Test-MemStack'
        'Get-MemStackInfo'
        'Update-MemStack'
        'Get-MemStore'
        'Remove-MemStore'
        'Test-MemStore'
        'Register-MemStore'
        'Unregister-MemStore'
        'Wait-MemStack'
        'Use-MemLock'
        'Get-MemLock'
        'Send-MemQueue'
        'Receive-MemQueue'
        'Export-MemStore'
        'Import-MemStore'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Linux', 'MacOS', 'SharedMemory', 'IPC', 'Cache', 'Redis', 'PSEdition_Core')
            LicenseUri   = 'https://github.com/memalloc/Memalloc/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/memalloc/Memalloc'
            ReleaseNotes = 'See https://github.com/memalloc/Memalloc/blob/main/CHANGELOG.md'
        }
    }
}
