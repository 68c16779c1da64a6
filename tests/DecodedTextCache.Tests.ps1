# The decoded-text cache of large values (issue 15): a large value read again unchanged skips the UTF-8 decode, and
# the cache never answers for bytes other than the ones it decoded.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Store = New-TestStoreName -Tag 'textcache'
    $Cache = (Get-Command Get-MemStack).ImplementingType.Assembly.GetType('Memalloc.DecodedTextCache', $true)
    $Static = [System.Reflection.BindingFlags]'NonPublic,Static'
    $MinBytes = [int] $Cache.GetField('MinBytes', $Static).GetValue($null)
    $MaxEntries = [int] $Cache.GetField('MaxEntries', $Static).GetValue($null)
    $MaxTotalBytes = [long] $Cache.GetField('MaxTotalBytes', $Static).GetValue($null)

    function Clear-TextCache { $Cache.GetMethod('Clear', $Static).Invoke($null, @()) }
    function Get-TextCacheCount { $Cache.GetProperty('Count', $Static).GetValue($null) }

    # GetText through a delegate: a ReadOnlySpan<byte> parameter cannot be passed by reflection's Invoke.
    $source = @'
public static class DecodedTextCacheProbe
{
    public delegate string GetText(Memalloc.Core.StackInfo info, System.ReadOnlySpan<byte> data);
    public static string Call(System.Reflection.MethodInfo method, Memalloc.Core.StackInfo info, byte[] data)
        => ((GetText)System.Delegate.CreateDelegate(typeof(GetText), method))(info, data);
}
'@
    if (-not ('DecodedTextCacheProbe' -as [type])) {
        Add-Type -TypeDefinition $source -IgnoreWarnings -WarningAction SilentlyContinue -ReferencedAssemblies ([Memalloc.Core.StackInfo].Assembly.Location)
    }
    $GetTextMethod = $Cache.GetMethod('GetText', [System.Reflection.BindingFlags]'Public,Static')
    function Get-CachedText ([Memalloc.Core.StackInfo] $Info, [byte[]] $Data) {
        [DecodedTextCacheProbe]::Call($GetTextMethod, $Info, $Data)
    }
    function New-Info ([string] $Name, [long] $Version) {
        [Memalloc.Core.StackInfo]@{ Name = $Name; Store = $Store; Version = $Version; Encoding = 'CliXml' }
    }
}

AfterAll {
    Remove-TestStore $Store
}

Describe 'Decoded-text cache of large values' {
    BeforeEach { Clear-TextCache }

    It 'gives the new value after a same-length overwrite of a large string' {
        Set-MemStack -Name 'big' -Value ('a' * 200KB) -Store $Store
        (Get-MemStack -Name 'big' -Store $Store).Substring(0, 3) | Should -BeExactly 'aaa'
        Set-MemStack -Name 'big' -Value ('b' * 200KB) -Store $Store
        (Get-MemStack -Name 'big' -Store $Store).Substring(0, 3) | Should -BeExactly 'bbb'
        Get-TextCacheCount | Should -Be 1 -Because 'the older version of the stack was dropped'
    }

    It 'gives the value another process wrote after this one cached the old one' {
        Set-MemStack -Name 'shared' -Value ('c' * 200KB) -Store $Store
        $null = Get-MemStack -Name 'shared' -Store $Store
        Invoke-ChildPwsh "Set-MemStack -Name 'shared' -Value ('d' * 200KB) -Store '$Store'"
        (Get-MemStack -Name 'shared' -Store $Store).Substring(0, 3) | Should -BeExactly 'ddd'
    }

    It 'answers a second read of unchanged bytes from the cache' {
        $data = [Text.Encoding]::UTF8.GetBytes('x' * $MinBytes)
        $first = Get-CachedText (New-Info 'hit' 7) $data
        $second = Get-CachedText (New-Info 'hit' 7) $data
        [object]::ReferenceEquals($first, $second) | Should -BeTrue
    }

    It 'decodes afresh bytes that differ from the ones it decoded under the same key (damage after the first read)' {
        $data = [Text.Encoding]::UTF8.GetBytes('x' * $MinBytes)
        $null = Get-CachedText (New-Info 'damaged' 7) $data
        $data[100] = [byte][char]'y'
        $again = Get-CachedText (New-Info 'damaged' 7) $data
        $again[100] | Should -BeExactly 'y'
    }

    It 'does not keep values smaller than the large-object size' {
        Set-MemStack -Name 'small' -Value ('s' * 1KB) -Store $Store
        $null = Get-MemStack -Name 'small' -Store $Store
        Get-TextCacheCount | Should -Be 0
    }

    It 'keeps at most its number of entries, least recently used out first' {
        $data = [Text.Encoding]::UTF8.GetBytes('e' * $MinBytes)
        $texts = foreach ($i in 0..$MaxEntries) { Get-CachedText (New-Info "entry-$i" 1) $data }
        Get-TextCacheCount | Should -Be $MaxEntries
        [object]::ReferenceEquals($texts[-1], (Get-CachedText (New-Info "entry-$MaxEntries" 1) $data)) | Should -BeTrue
        [object]::ReferenceEquals($texts[0], (Get-CachedText (New-Info 'entry-0' 1) $data)) | Should -BeFalse -Because 'the oldest entry went first'
    }

    It 'keeps at most its total of bytes' {
        $half = [Text.Encoding]::UTF8.GetBytes('h' * ($MaxTotalBytes / 2))
        foreach ($i in 1..3) { $null = Get-CachedText (New-Info "half-$i" 1) $half }
        Get-TextCacheCount | Should -Be 2
        $null = Get-CachedText (New-Info 'too-big' 1) ([byte[]]::new($MaxTotalBytes + 1))
        Get-TextCacheCount | Should -Be 2 -Because 'a value larger than the whole cache is decoded but not kept'
    }
}
