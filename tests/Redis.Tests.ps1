# What only Redis stores have: registration, signing, several hosts, the cluster, faults of the server, and the
# AssemblyLoadContext. The cmdlets' own cases run on Redis through the per-backend suites (tools/PesterTest.ps1).
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Registered = [System.Collections.Generic.List[string]]::new()

    function Register-TestStore {
        param ([string] $Extra, [switch] $Cluster)
        $name = New-TestStoreName -Tag redis
        if ($Cluster) {
            Register-MemStore -Name $name -Redis (Get-TestRedisCluster).ConnectionString -ErrorAction Stop 6>$null
        }
        else {
            $connection = Get-TestRedisConnection -Extra $Extra
            Register-MemStore -Name $name -Redis $connection.ConnectionString -Credential $connection.Credential -ErrorAction Stop 6>$null
        }
        $Registered.Add($name)
        $name
    }

    # A child pwsh with its own environment (another "host": another HOME, so another registration file).
    function Invoke-PwshWithEnvironment {
        param ([Parameter(Mandatory)] [string] $Command, [hashtable] $Environment = @{})
        $startInfo = [System.Diagnostics.ProcessStartInfo]::new($script:Pwsh)
        foreach ($argument in Get-ChildPwshArgument $Command) { $startInfo.ArgumentList.Add($argument) }
        foreach ($key in $Environment.Keys) {
            if ($null -eq $Environment[$key]) { $null = $startInfo.Environment.Remove($key) } else { $startInfo.Environment[$key] = $Environment[$key] }
        }
        $startInfo.RedirectStandardOutput = $true
        $startInfo.RedirectStandardError = $true
        $process = [System.Diagnostics.Process]::Start($startInfo)
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEnd()
        $process.WaitForExit()
        if ($process.ExitCode -ne 0) { throw "Child pwsh failed ($($process.ExitCode)): $($stdout.Result) $stderr" }
        $stdout.Result -split '\r?\n' | Where-Object { $_ }
    }

    $Connection = Get-TestRedisConnection
}

AfterAll {
    Remove-TestStore $Registered
}

Describe 'Register-MemStore' {
    It 'keeps the registration in a 0600 file under a 0700 folder of the user''s configuration folder' {
        $name = Register-TestStore
        $file = Join-Path $env:XDG_CONFIG_HOME 'memalloc' 'stores.json'
        (Get-Item -LiteralPath $file).UnixFileMode | Should -Be ([System.IO.UnixFileMode] 'UserRead, UserWrite')
        (Get-Item -LiteralPath (Split-Path $file)).UnixFileMode | Should -Be ([System.IO.UnixFileMode] 'UserRead, UserWrite, UserExecute')
        (Get-Content -LiteralPath $file -Raw | ConvertFrom-Json).Name | Should -Contain $name
    }

    It 'refuses a registration file that others can read, without using it' {
        $name = Register-TestStore
        $file = Join-Path $env:XDG_CONFIG_HOME 'memalloc' 'stores.json'
        chmod 644 $file
        try {
            { Get-MemStack -Name 'x' -Store $name -ErrorAction Stop } | Should -Throw -ErrorId 'PermissionDenied,Memalloc.Commands.GetMemStackCommand'
        }
        finally { chmod 600 $file }
    }

    It 'shows a generated signing key once, on the host, not in the output' {
        $name = New-TestStoreName -Tag redis
        $Registered.Add($name)
        $output = Register-MemStore -Name $name -Redis $Connection.ConnectionString -Credential $Connection.Credential -InformationVariable shown 6>$null
        $output | Should -BeNullOrEmpty
        $key = (Get-Content -LiteralPath (Join-Path $env:XDG_CONFIG_HOME 'memalloc' 'stores.json') -Raw | ConvertFrom-Json |
            Where-Object Name -EQ $name).SigningKey
        [Convert]::FromBase64String($key).Length | Should -Be 32
        "$shown" | Should -Match ([regex]::Escape($key))
        "$shown" | Should -Match 'Register-MemStore'
    }

    It 'shows the store with its backend, server and prefix in Get-MemStore, never the password' {
        $name = Register-TestStore
        Set-MemStack -Name 'a' -Value 'abc' -Store $name
        $info = Get-MemStore -Name $name
        $info.Backend | Should -BeExactly 'Redis'
        $info.Server | Should -BeExactly "127.0.0.1:$($Connection.Port)"
        $info.KeyPrefix | Should -BeExactly 'memalloc:'
        $info.Entries | Should -Be 1
        $info.BytesUsed | Should -BeGreaterThan 0
        ($info | Format-List * | Out-String) | Should -Not -Match $Connection.Password
        (Get-MemStore | Out-String -Width 300) | Should -Match "$name\s+Redis"
    }

    It 'keeps a password given in the connection string out of Get-MemStore, verbose output and errors' {
        $name = New-TestStoreName -Tag redis
        $Registered.Add($name)
        $secret = 'pw-' + [guid]::NewGuid().ToString('N')
        $verbose = Register-MemStore -Name $name -Redis "127.0.0.1:$($Connection.Port),user=nobody-here,password=$secret,connectTimeout=1000" -Verbose -ErrorVariable err -ErrorAction SilentlyContinue 4>&1 6>$null
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'PermissionDenied,*'
        "$($err[0])" | Should -Not -Match $secret
        "$verbose" | Should -Not -Match $secret
        Register-MemStore -Name $name -Redis "127.0.0.1:$($Connection.Port),user=nobody-here,password=$secret" -Force 6>$null
        (Get-MemStore -Name $name -ErrorAction SilentlyContinue | Format-List * | Out-String) | Should -Not -Match $secret
        Get-MemStack -Name 'x' -Store $name -ErrorVariable readErr -ErrorAction SilentlyContinue
        "$($readErr[0])" | Should -Not -Match $secret
    }

    It 'checks the connection first, and saves nothing when the server cannot be reached' {
        $name = New-TestStoreName -Tag redis
        $err = { Register-MemStore -Name $name -Redis '127.0.0.1:1,connectTimeout=500' -ErrorAction Stop 6>$null } |
            Should -Throw -ErrorId 'ConnectionFailed,Memalloc.Commands.RegisterMemStoreCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::ConnectionError)
        $err.Exception.Message | Should -Match '127\.0\.0\.1:1'
        Get-MemStore -Name $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'refuses a connection string that names no server, or that StackExchange.Redis cannot read, as InvalidArgument' -TestCases @(
        @{ Given = 'ssl=true' }
        @{ Given = 'localhost:6379,password=hunter2,nosuchoption=1' }
    ) {
        param ($Given)
        $err = { Register-MemStore -Name (New-TestStoreName) -Redis $Given -Force -ErrorAction Stop 6>$null } |
            Should -Throw -ErrorId 'InvalidArgument,Memalloc.Commands.RegisterMemStoreCommand' -PassThru
        $err.Exception.Message | Should -Not -Match 'hunter2'
    }

    It 'refuses a key prefix with a brace (the store''s name is the hash tag)' {
        { Register-MemStore -Name (New-TestStoreName) -Redis $Connection.ConnectionString -KeyPrefix 'a{b}:' -Force } |
            Should -Throw -ErrorId 'InvalidKeyPrefix,Memalloc.Commands.RegisterMemStoreCommand'
    }

    It 'refuses a signing key that is not the base64 of 16 bytes or more' {
        $short = ConvertTo-SecureString ([Convert]::ToBase64String([byte[]] (1..8))) -AsPlainText -Force
        { Register-MemStore -Name (New-TestStoreName) -Redis $Connection.ConnectionString -SigningKey $short -Force } |
            Should -Throw -ErrorId 'InvalidSigningKey,Memalloc.Commands.RegisterMemStoreCommand'
    }

    It 'warns at an unsigned registration' {
        $name = New-TestStoreName -Tag redis
        $Registered.Add($name)
        Register-MemStore -Name $name -Redis $Connection.ConnectionString -Credential $Connection.Credential -Unsigned -WarningVariable warned -WarningAction SilentlyContinue
        "$warned" | Should -Match 'unsigned'
        (Get-MemStore -Name $name).Warnings | Should -Match 'Unsigned'
    }

    It 'offers registered stores in -Store completion' {
        $name = Register-TestStore
        Get-CompletionText "Get-MemStack -Store $($name.Substring(0, 14))" | Should -Contain $name
        Get-CompletionText "Unregister-MemStore $($name.Substring(0, 14))" | Should -Contain $name
    }
}

Describe 'Unregister-MemStore' {
    It 'forgets the registration, not the data; the name means the shared-memory store again' {
        $name = Register-TestStore
        Set-MemStack -Name 'kept' -Value 'on redis' -Store $name
        Unregister-MemStore -Name $name
        try {
            Test-MemStack -Name 'kept' -Store $name | Should -BeFalse  # the shared-memory store of that name
            Set-MemStack -Name 'local' -Value 'in shared memory' -Store $name
            (Get-MemStore -Name $name).Backend | Should -BeExactly 'SharedMemory'
        }
        finally { Remove-MemStore -Name $name -Force }
        Register-MemStore -Name $name -Redis $Connection.ConnectionString -Credential $Connection.Credential -Force -Unsigned -WarningAction SilentlyContinue
        Test-MemStack -Name 'kept' -Store $name | Should -BeTrue
    }

    It 'reports a name that is not registered as MemStoreNotRegistered' {
        $err = { Unregister-MemStore -Name (New-TestStoreName) -ErrorAction Stop } |
            Should -Throw -ErrorId 'MemStoreNotRegistered,Memalloc.Commands.UnregisterMemStoreCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::ObjectNotFound)
    }
}

Describe 'Signed values' {
    BeforeAll {
        $Signed = Register-TestStore
        $Cli = { param ([string[]] $Arguments) Invoke-RedisCli -Port $Connection.Port -Arguments $Arguments -Authenticated }
    }

    It 'refuses a planted unsigned value as UntrustedValue and never deserialises it' {
        Set-MemStack -Name 'planted' -Value 'genuine' -Store $Signed
        $xml = [System.Management.Automation.PSSerializer]::Serialize('planted by someone else')
        & $Cli 'HSET', "memalloc:{$Signed}:s:planted", 'v', $xml, 'h', '' | Out-Null
        $err = { Get-MemStack -Name 'planted' -Store $Signed -ErrorAction Stop } |
            Should -Throw -ErrorId 'UntrustedValue,Memalloc.Commands.GetMemStackCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::SecurityError)
        { Update-MemStack -Name 'planted' -ScriptBlock { 'x' } -Store $Signed -ErrorAction Stop } |
            Should -Throw -ErrorId 'UntrustedValue,Memalloc.Commands.UpdateMemStackCommand'
        Test-MemStore -Name $Signed | Should -BeFalse
    }

    It 'refuses a value signed with another key' {
        $otherHome = Join-Path $TestDrive 'other-key'
        $key = [Convert]::ToBase64String([byte[]] (1..32))
        Invoke-PwshWithEnvironment -Environment @{ XDG_CONFIG_HOME = $otherHome } -Command @"
`$key = ConvertTo-SecureString '$key' -AsPlainText -Force
`$cred = [pscredential]::new('$($Connection.Credential.UserName)', (ConvertTo-SecureString '$($Connection.Password)' -AsPlainText -Force))
Register-MemStore -Name '$Signed' -Redis '$($Connection.ConnectionString)' -Credential `$cred -SigningKey `$key
Set-MemStack -Name 'other-key' -Value 'signed with another key' -Store '$Signed'
"@
        { Get-MemStack -Name 'other-key' -Store $Signed -ErrorAction Stop } |
            Should -Throw -ErrorId 'UntrustedValue,Memalloc.Commands.GetMemStackCommand'
    }

    It 'refuses a signed value whose expiry was changed' {
        Set-MemStack -Name 'short-lived' -Value 'secret for a minute' -TimeToLive 60 -Store $Signed
        $later = [DateTimeOffset]::UtcNow.AddDays(1).ToUnixTimeMilliseconds()
        & $Cli 'HSET', "memalloc:{$Signed}:s:short-lived", 'x', "$later" | Out-Null
        { Get-MemStack -Name 'short-lived' -Store $Signed -ErrorAction Stop } |
            Should -Throw -ErrorId 'UntrustedValue,Memalloc.Commands.GetMemStackCommand'
    }
}

Describe 'Several hosts' {
    It 'shares a store between processes with different HOMEs and the same registration' {
        $name = New-TestStoreName -Tag redis
        $key = [Convert]::ToBase64String([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32))
        $register = @"
`$cred = [pscredential]::new('$($Connection.Credential.UserName)', (ConvertTo-SecureString '$($Connection.Password)' -AsPlainText -Force))
Register-MemStore -Name '$name' -Redis '$($Connection.ConnectionString)' -Credential `$cred -SigningKey (ConvertTo-SecureString '$key' -AsPlainText -Force)
"@
        $hostA = @{ HOME = (Join-Path $TestDrive 'hostA'); XDG_CONFIG_HOME = $null }
        $hostB = @{ HOME = (Join-Path $TestDrive 'hostB'); XDG_CONFIG_HOME = $null }
        $null = New-Item -ItemType Directory -Path $hostA.HOME, $hostB.HOME
        Invoke-PwshWithEnvironment -Environment $hostA -Command "$register; Set-MemStack -Name 'greeting' -Value @{ from = 'A' } -Store '$name'"
        $read = Invoke-PwshWithEnvironment -Environment $hostB -Command "$register; (Get-MemStack -Name 'greeting' -Store '$name').from; Update-MemStack -Name 'hits' -Increment 1 -Store '$name' -PassThru"
        $read | Should -Be @('A', '1')
        Test-Path -LiteralPath (Join-Path $hostB.HOME '.config' 'memalloc' 'stores.json') | Should -BeTrue
        Invoke-PwshWithEnvironment -Environment $hostA -Command "Get-MemStack -Name 'hits' -Store '$name'; Remove-MemStore -Name '$name' -Force" | Should -Be '1'
    }
}

Describe 'Redis Cluster' {
    It 'loses no update: 4 processes x 250 Update-MemStack -Increment give exactly 1000' {
        $name = Register-TestStore -Cluster
        $children = 1..4 | ForEach-Object {
            Start-ChildPwsh "1..250 | ForEach-Object { Update-MemStack -Name 'counter' -Increment 1 -Store '$name' }"
        }
        $children | Wait-ChildPwsh
        Get-MemStack -Name 'counter' -Store $name | Should -Be 1000
        (Get-MemStackInfo -Name 'counter' -Store $name).Version | Should -BeGreaterOrEqual 1000
    }

    It 'spreads different stores over the nodes and keeps each store''s keys on one' {
        $slots = foreach ($i in 1..6) {
            $name = Register-TestStore -Cluster
            Set-MemStack -Name 'a' -Value 1 -Store $name
            Set-MemStack -Name 'b' -Value 2 -Store $name
            $node = (Get-TestRedisCluster).Nodes[0]
            [int] "$(Invoke-RedisCli -Port $node.Port -Arguments 'CLUSTER', 'KEYSLOT', "memalloc:{$name}:s:a")"
        }
        @($slots | Sort-Object -Unique).Count | Should -BeGreaterThan 1
    }
}

Describe 'Snapshots of Redis stores' {
    # The cases both backends share are in Snapshots.Tests.ps1; these are the signature's.
    It 'refuses to export a store holding a planted unsigned value, with UntrustedValue, and writes no file' {
        $name = Register-TestStore
        Set-MemStack -Name 'genuine' -Value 1 -Store $name
        $xml = [System.Management.Automation.PSSerializer]::Serialize('planted')
        Invoke-RedisCli -Port $Connection.Port -Arguments 'HSET', "memalloc:{$name}:s:planted", 'v', $xml, 'n', '1', 'h', '' -Authenticated | Out-Null
        Invoke-RedisCli -Port $Connection.Port -Arguments 'ZADD', "memalloc:{$name}:names", 'inf', 'planted' -Authenticated | Out-Null
        $file = Join-Path $TestDrive 'planted.memsnap'
        $err = { Export-MemStore -Name $name -Path $file -ErrorAction Stop } |
            Should -Throw -ErrorId 'UntrustedValue,Memalloc.Commands.ExportMemStoreCommand' -PassThru
        "$err" | Should -Match 'planted'
        $file | Should -Not -Exist
    }

    It 'refuses to export a store whose queue holds a planted unsigned item, with UntrustedValue, and writes no file' {
        $name = Register-TestStore
        Send-MemQueue -Name 'jobs' -Value 'signed' -Store $name
        $xml = [System.Text.Encoding]::UTF8.GetBytes([System.Management.Automation.PSSerializer]::Serialize('planted'))
        $item = Join-Path $TestDrive 'export-item.bin'
        [System.IO.File]::WriteAllBytes($item, [byte[]] (@(1, 0, 0, 0) + $xml))  # format 1, no signature, no type name
        bash -c "redis-cli -h 127.0.0.1 -p $($Connection.Port) --user '$($Connection.Credential.UserName)' --pass '$($Connection.Password)' --no-auth-warning -x RPUSH 'memalloc:{$name}:q:jobs' < '$item'" | Out-Null
        $file = Join-Path $TestDrive 'planted-item.memsnap'
        $err = { Export-MemStore -Name $name -Path $file -ErrorAction Stop } |
            Should -Throw -ErrorId 'UntrustedValue,Memalloc.Commands.ExportMemStoreCommand' -PassThru
        "$err" | Should -Match "queue 'jobs'"
        $file | Should -Not -Exist
    }

    It 'signs the queue items it imports with the store''s key, so that another host with the key receives them' {
        $local = New-TestStoreName
        $name = Register-TestStore
        try {
            'first', 'second' | Send-MemQueue -Name 'moved' -Store $local
            $file = Join-Path $TestDrive 'moved-queue.memsnap'
            Export-MemStore -Name $local -Path $file
            Import-MemStore -Path $file -Name $name
            Invoke-ChildPwsh "(Receive-MemQueue -Name 'moved' -Count 5 -Store '$name') -join ','" | Should -BeExactly 'first,second'
        }
        finally { Remove-TestStore $local }
    }

    It 'signs what it imports with the store''s key, so that another host with the key reads it' {
        $local = New-TestStoreName
        $name = Register-TestStore
        try {
            Set-MemStack -Name 'moved' -Value 'from shared memory' -Store $local
            $file = Join-Path $TestDrive 'moved.memsnap'
            Export-MemStore -Name $local -Path $file
            Import-MemStore -Path $file -Name $name
            Invoke-ChildPwsh "Get-MemStack -Name 'moved' -Store '$name'" | Should -BeExactly 'from shared memory'
            Test-MemStore -Name $name | Should -BeTrue
        }
        finally { Remove-TestStore $local }
    }
}

Describe 'Versions on Redis' {
    It 'never reuses a version, across Remove-MemStack and Remove-MemStore' {
        $name = Register-TestStore
        $first = Set-MemStack -Name 'v' -Value 1 -Store $name -PassThru
        Remove-MemStack -Name 'v' -Store $name
        $second = Set-MemStack -Name 'v' -Value 2 -Store $name -PassThru
        Remove-MemStore -Name $name -Force
        Test-MemStack -Name 'v' -Store $name | Should -BeFalse
        $third = Set-MemStack -Name 'v' -Value 3 -Store $name -PassThru
        $second.Version | Should -BeGreaterThan $first.Version
        $third.Version | Should -BeGreaterThan $second.Version
    }
}

Describe 'Faults of the server' {
    BeforeAll {
        # A server of its own: these tests stop and restart it.
        $Server = Start-TestRedisServer -Tag faults
        $Faulty = New-TestStoreName -Tag redis
        $Registered.Add($Faulty)
        Register-MemStore -Name $Faulty -Redis "127.0.0.1:$($Server.Port),syncTimeout=1000,connectTimeout=1000" 6>$null
    }

    It 'fails with ConnectionFailed naming the server while it is down, and works again when it is back, without re-importing' {
        Set-MemStack -Name 'before' -Value 1 -Store $Faulty
        Stop-Process -Id $Server.Process.Id -Force
        $Server.Process.WaitForExit()
        $err = { Set-MemStack -Name 'during' -Value 2 -Store $Faulty -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConnectionFailed,Memalloc.Commands.SetMemStackCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::ConnectionError)
        $err.Exception.Message | Should -Match "127\.0\.0\.1:$($Server.Port)"
        { Get-MemStack -Name 'before' -Store $Faulty -ErrorAction Stop } | Should -Throw -ErrorId 'ConnectionFailed,Memalloc.Commands.GetMemStackCommand'
        Restart-TestRedisServer $Server
        Wait-Until { Set-MemStack -Name 'after' -Value 3 -Store $Faulty -ErrorAction SilentlyContinue; Test-MemStack -Name 'after' -Store $Faulty -ErrorAction SilentlyContinue } |
            Should -BeTrue
        Get-MemStack -Name 'after' -Store $Faulty | Should -Be 3
    }

    It 'fails within the timeout when the server is paused (SIGSTOP), and works again after SIGCONT' {
        Set-MemStack -Name 'paused' -Value 1 -Store $Faulty
        kill -STOP $Server.Process.Id
        try {
            $err = { Update-MemStack -Name 'paused' -Increment 1 -Store $Faulty -ErrorAction Stop } |
                Should -Throw -ErrorId 'ConnectionFailed,Memalloc.Commands.UpdateMemStackCommand' -PassThru
            $err.Exception.Message | Should -Match 'may or may not have been applied|Cannot reach'
        }
        finally { kill -CONT $Server.Process.Id }
        Wait-Until { (Get-MemStack -Name 'paused' -Store $Faulty -ErrorAction SilentlyContinue) -in 1, 2 } | Should -BeTrue
        Update-MemStack -Name 'paused' -Increment 1 -Store $Faulty -PassThru | Should -BeIn 2, 3
    }

    It 'wakes a waiter in another process for a write made after the server restarted (its subscription is made again)' {
        $child = Start-ChildPwsh "(Wait-MemStack -Name 'across-restart' -Exists -Store '$Faulty' -Timeout 120).Name"
        Wait-Until { (Get-MemStore -Name $Faulty -ErrorAction SilentlyContinue).Waiters -ge 1 } | Should -BeTrue
        Restart-TestRedisServer $Server
        # The restart lost the server's data, the waiter's entry with it: the write below is what must wake it.
        Wait-Until { Set-MemStack -Name 'across-restart' -Value 1 -Store $Faulty -ErrorAction SilentlyContinue; $child.Process.HasExited } -TimeoutSeconds 60 |
            Should -BeTrue
        $child | Wait-ChildPwsh | Should -Be 'across-restart'
    }

    It 'tells the holder with MemLockLost when the server was paused past the lock''s lease, after the block ran' {
        $serverPid = $Server.Process.Id
        $output = [System.Collections.Generic.List[object]]::new()
        $err = {
            Use-MemLock -Name 'paused-lock' -Store $Faulty -ScriptBlock {
                'inside'
                kill -STOP $serverPid
                try { Start-Sleep -Seconds 12 } finally { kill -CONT $serverPid }   # longer than the 10 s lease
            } | ForEach-Object { $output.Add($_) }
        } | Should -Throw -ErrorId 'MemLockLost,Memalloc.Commands.UseMemLockCommand' -PassThru
        $output | Should -Be 'inside'
        "$err" | Should -Match "Lock 'paused-lock'.*could not be renewed within its lease"
        $err.CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::OperationStopped)
        Wait-Until { Use-MemLock -Name 'paused-lock' -Store $Faulty -Timeout 0 -ScriptBlock { $true } -ErrorAction SilentlyContinue } | Should -BeTrue
    }
}

Describe 'Coordination on Redis' {
    It 'frees the lock of a holder killed with SIGKILL only when its lease ends, with a larger token' {
        $name = Register-TestStore
        $holder = Start-ChildPwsh "Use-MemLock -Name 'leased' -Store '$name' -ScriptBlock { Set-MemStack -Name 'holder' -Value `$PID -Store '$name'; Start-Sleep -Seconds 600 }"
        $null = Wait-MemStack -Name 'holder' -Exists -Store $name -Timeout 60
        $before = (Get-MemLock -Name 'leased' -Store $name).Token
        kill -KILL (Get-MemStack -Name 'holder' -Store $name)
        $holder.Process.WaitForExit()
        # Nobody can tell a dead holder on another host from a slow one: the lock stays taken until its lease ends.
        { Use-MemLock -Name 'leased' -Store $name -Timeout 0 -ScriptBlock { } } | Should -Throw -ErrorId 'MemLockTimeout,Memalloc.Commands.UseMemLockCommand'
        (Get-MemLock -Name 'leased' -Store $name).Token | Should -Be $before
        Use-MemLock -Name 'leased' -Store $name -Timeout 60 -ScriptBlock { $_.Token } | Should -BeGreaterThan $before
    }

    It 'refuses a planted queue item as UntrustedValue, never deserialises it, and hands on the signed ones' {
        $name = Register-TestStore
        Send-MemQueue -Name 'jobs' -Value 'signed' -Store $name
        # An item as the format has it (format 1, no signature, no type name), with CliXml that would run nothing but
        # is still not the store's to trust.
        $xml = [System.Text.Encoding]::UTF8.GetBytes([System.Management.Automation.PSSerializer]::Serialize('planted'))
        $item = [byte[]] (@(1, 0, 0, 0) + $xml)
        $file = Join-Path $TestDrive 'item.bin'
        [System.IO.File]::WriteAllBytes($file, $item)
        # redis-cli -x takes the last argument, binary, from stdin.
        bash -c "redis-cli -h 127.0.0.1 -p $($Connection.Port) --user '$($Connection.Credential.UserName)' --pass '$($Connection.Password)' --no-auth-warning -x RPUSH 'memalloc:{$name}:q:jobs' < '$file'" | Out-Null
        Send-MemQueue -Name 'jobs' -Value 'signed too' -Store $name
        $got = Receive-MemQueue -Name 'jobs' -Count 10 -Store $name -ErrorVariable problems -ErrorAction SilentlyContinue
        $got | Should -Be @('signed', 'signed too')
        $problems.FullyQualifiedErrorId | Should -Be 'UntrustedValue,Memalloc.Commands.ReceiveMemQueueCommand'
        $problems[0].CategoryInfo.Category | Should -Be ([System.Management.Automation.ErrorCategory]::SecurityError)
    }

    It 'counts a waiter in another process in Get-MemStore, and no more once it returned' {
        $name = Register-TestStore
        $child = Start-ChildPwsh "(Wait-MemStack -Name 'w' -Store '$name' -Timeout 120).Name"
        Wait-Until { (Get-MemStore -Name $name).Waiters -ge 1 } | Should -BeTrue
        (Get-MemStore -Name $name).WaitPrimitive | Should -Be 'PubSub'
        Set-MemStack -Name 'w' -Value 1 -Store $name
        $child | Wait-ChildPwsh | Should -Be 'w'
        Wait-Until { (Get-MemStore -Name $name).Waiters -eq 0 } | Should -BeTrue
    }
}

Describe 'Packaging' {
    It 'loads nothing of Redis for shared-memory stores' {
        $store = New-TestStoreName
        $loaded = Invoke-ChildPwsh "Set-MemStack -Name a -Value 1 -Store '$store'; `$null = Get-MemStack -Name a -Store '$store'; Remove-MemStore '$store' -Force
[AppDomain]::CurrentDomain.GetAssemblies().GetName().Name | Where-Object { `$_ -match 'Redis' }"
        $loaded | Should -BeNullOrEmpty
    }

    It 'loads Memalloc.Redis and StackExchange.Redis into their own AssemblyLoadContext' {
        $name = Register-TestStore
        $contexts = Invoke-ChildPwsh "Set-MemStack -Name a -Value 1 -Store '$name'
[AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -in 'Memalloc.Redis', 'StackExchange.Redis', 'Memalloc.Core' } |
    ForEach-Object { '{0}={1}' -f `$_.GetName().Name, [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).Name }"
        $contexts | Should -Contain 'Memalloc.Redis=Memalloc.Redis'
        $contexts | Should -Contain 'StackExchange.Redis=Memalloc.Redis'
        $contexts | Where-Object { $_ -like 'Memalloc.Core=*' } | Should -Be 'Memalloc.Core=Default'
    }

    It 'works beside another module''s StackExchange.Redis already loaded in the session, and leaves that one alone' {
        # Another module's StackExchange.Redis (a stand-in: an assembly of that name and another version, with one type),
        # loaded first into the default context, as Import-Module of that module would.
        $name = Register-TestStore
        $seen = Invoke-ChildPwsh "`$other = [System.Reflection.AssemblyName]::new('StackExchange.Redis'); `$other.Version = '1.0.0.0'
`$module = [System.Reflection.Emit.AssemblyBuilder]::DefineDynamicAssembly(`$other, 'Run').DefineDynamicModule('other')
`$null = `$module.DefineType('StackExchange.Redis.OtherModule', 'Public').CreateType()
Set-MemStack -Name a -Value 'through our own copy' -Store '$name'
Get-MemStack -Name a -Store '$name'
[AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'StackExchange.Redis' } |
    ForEach-Object { '{0} {1}' -f `$_.GetName().Version.Major, [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).Name } | Sort-Object"
        $seen[0] | Should -BeExactly 'through our own copy'
        $seen[1..2] | Should -Be @('1 Default', '3 Memalloc.Redis')
    }
}
