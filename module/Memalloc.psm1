# Root module: refuses Windows with a clear error before the binary module (which needs System V IPC) loads.
if ($IsWindows) {
    $exception = [System.PlatformNotSupportedException]::new(
        'Memalloc needs System V shared memory and runs on Linux and macOS only; Windows is not supported.')
    $errorRecord = [System.Management.Automation.ErrorRecord]::new(
        $exception, 'PlatformNotSupported', [System.Management.Automation.ErrorCategory]::NotImplemented, $null)
    throw $errorRecord
}

$binaryModule = Import-Module -Name ([System.IO.Path]::Combine($PSScriptRoot, 'Memalloc.dll')) -PassThru -ErrorAction Stop
# @(...): a bare KeyCollection binds to -Cmdlet as one string and nothing would be exported.
Export-ModuleMember -Cmdlet @($binaryModule.ExportedCmdlets.Keys)
