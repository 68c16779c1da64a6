@{
    # The benchmark suites, in the order tools/bench/Measure-Benchmarks.ps1 runs them: each is tests/Benchmarks/<Name>.Bench.ps1,
    # run in a fresh pwsh with -ContextPath and -OutPath (see BenchSuite.psm1 and CONTRIBUTING.md, "Add a benchmark").
    Suites  = @(
        'Core'        # the store's Set, Get, Set+Get, CopyValue by value size; Buffer.MemoryCopy and others; Redis
        'Peers'       # PHP APCu and sysvshm by value size
        'Readers'     # one and two reader processes
        'Scale'       # random reads at 100 and 1,000,000 stacks, Memalloc and APCu, without and with huge pages
        'Cmdlets'     # Set-MemStack, Get-MemStack beside PSSerializer, variables, Clixml files
        'ColdStart'   # the CPU time of a fresh pwsh's first write and read
        'Contention'  # 4 workers incrementing one counter
        'Redis'       # the cmdlets on a Redis store beside StackExchange.Redis + PSSerializer; 4-process increments on Redis
        'Coordination' # wake latency, named locks beside a named Mutex and flock, queues beside a Redis list, waiter cost
        'Snapshots'   # Export-MemStore, Import-MemStore of 100,000 stacks beside Export/Import-Clixml, Redis SAVE, a plain write
    )

    # The targets (design.md section 5 and the issues), each the ratio of two measurements of one run: Of's value over
    # Over's value, required to be AtMost and/or AtLeast a limit. Of and Over name one measurement each by its keys
    # (Suite, Case, Subject and the suite's own keys: Size, Stacks, HugePages, Data, Readers, Workers, Items). A target
    # without Over limits Of's value itself, in its unit (ns, op/s, count): for the few absolute targets, such as a
    # latency. tools/bench/Write-BenchmarkReport.ps1 judges them; one whose measurements are missing is 'not measured'.
    Targets = @(
        @{ Source = 'design §5, issue 16'; Target = 'Set-MemStack+Get-MemStack on a Redis store / StackExchange.Redis StringSet+StringGet + PSSerializer'; AtMost = 1.2
            Of = @{ Suite = 'Redis'; Case = 'Set+Get'; Subject = 'Memalloc'; Data = 'small object' }
            Over = @{ Suite = 'Redis'; Case = 'Set+Get'; Subject = 'StackExchange.Redis + PSSerializer'; Data = 'small object' } }
        @{ Source = 'issue 13'; Target = 'Wake latency across processes, median (ns)'; AtMost = 200000
            Of = @{ Suite = 'Coordination'; Case = 'wake latency'; Subject = 'Memalloc'; Percentile = 50 } }
        @{ Source = 'issue 13'; Target = 'CPU of a process waiting 10 s for a lock (ns)'; AtMost = 10000000
            Of = @{ Suite = 'Coordination'; Case = 'lock waiter CPU per 10 s'; Subject = 'Memalloc' } }
        @{ Source = 'issue 13'; Target = 'Queue send+receive on 100,000 items / on 10 items (O(1) in the length)'; AtMost = 1.2
            Of = @{ Suite = 'Coordination'; Case = 'queue send+receive by length'; Subject = 'Memalloc'; Items = 100000 }
            Over = @{ Suite = 'Coordination'; Case = 'queue send+receive by length'; Subject = 'Memalloc'; Items = 10 } }
        @{ Source = 'issue 15'; Target = 'Core Get of 16 B: Memalloc time / APCu apcu_fetch time'; AtMost = 1.0
            Of = @{ Suite = 'Core'; Case = 'Get'; Subject = 'Memalloc'; Size = 16 }
            Over = @{ Suite = 'Peers'; Case = 'Get'; Subject = 'APCu'; Size = 16 } }
        @{ Source = 'issue 15'; Target = 'Core Get of 1 KiB: Memalloc time / APCu apcu_fetch time'; AtMost = 1.0
            Of = @{ Suite = 'Core'; Case = 'Get'; Subject = 'Memalloc'; Size = 1024 }
            Over = @{ Suite = 'Peers'; Case = 'Get'; Subject = 'APCu'; Size = 1024 } }
        @{ Source = 'issue 15'; Target = 'Core Get of 64 KiB: Memalloc time / APCu apcu_fetch time'; AtMost = 1.0
            Of = @{ Suite = 'Core'; Case = 'Get'; Subject = 'Memalloc'; Size = 65536 }
            Over = @{ Suite = 'Peers'; Case = 'Get'; Subject = 'APCu'; Size = 65536 } }
        @{ Source = 'issue 15'; Target = 'Core Get of 1 MiB: Memalloc time / APCu apcu_fetch time'; AtMost = 1.0
            Of = @{ Suite = 'Core'; Case = 'Get'; Subject = 'Memalloc'; Size = 1048576 }
            Over = @{ Suite = 'Peers'; Case = 'Get'; Subject = 'APCu'; Size = 1048576 } }
        @{ Source = 'issue 15'; Target = 'Core Set of 16 B: Memalloc time / APCu apcu_store time'; AtMost = 1.0
            Of = @{ Suite = 'Core'; Case = 'Set'; Subject = 'Memalloc'; Size = 16 }
            Over = @{ Suite = 'Peers'; Case = 'Set'; Subject = 'APCu'; Size = 16 } }
        @{ Source = 'issue 15'; Target = 'Core Set of 1 KiB: Memalloc time / APCu apcu_store time'; AtMost = 1.0
            Of = @{ Suite = 'Core'; Case = 'Set'; Subject = 'Memalloc'; Size = 1024 }
            Over = @{ Suite = 'Peers'; Case = 'Set'; Subject = 'APCu'; Size = 1024 } }
        @{ Source = 'issue 15'; Target = 'Core Set of 64 KiB: Memalloc time / APCu apcu_store time'; AtMost = 1.0
            Of = @{ Suite = 'Core'; Case = 'Set'; Subject = 'Memalloc'; Size = 65536 }
            Over = @{ Suite = 'Peers'; Case = 'Set'; Subject = 'APCu'; Size = 65536 } }
        @{ Source = 'issue 15'; Target = 'Core Set of 1 MiB: Memalloc time / APCu apcu_store time'; AtMost = 1.0
            Of = @{ Suite = 'Core'; Case = 'Set'; Subject = 'Memalloc'; Size = 1048576 }
            Over = @{ Suite = 'Peers'; Case = 'Set'; Subject = 'APCu'; Size = 1048576 } }
        @{ Source = 'design §5, issue 15'; Target = 'Core Set+Get of 16 B: Memalloc time / APCu apcu_store + apcu_fetch time'; AtMost = 1.0
            Of = @{ Suite = 'Core'; Case = 'SetGet'; Subject = 'Memalloc'; Size = 16 }
            Over = @{ Suite = 'Peers'; Case = 'SetGet'; Subject = 'APCu'; Size = 16 } }
        @{ Source = 'issue 15'; Target = 'Core Set+Get of 1 KiB: Memalloc time / APCu apcu_store + apcu_fetch time'; AtMost = 1.0
            Of = @{ Suite = 'Core'; Case = 'SetGet'; Subject = 'Memalloc'; Size = 1024 }
            Over = @{ Suite = 'Peers'; Case = 'SetGet'; Subject = 'APCu'; Size = 1024 } }
        @{ Source = 'issue 15'; Target = 'Core Set+Get of 64 KiB: Memalloc time / APCu apcu_store + apcu_fetch time'; AtMost = 1.0
            Of = @{ Suite = 'Core'; Case = 'SetGet'; Subject = 'Memalloc'; Size = 65536 }
            Over = @{ Suite = 'Peers'; Case = 'SetGet'; Subject = 'APCu'; Size = 65536 } }
        @{ Source = 'issue 15'; Target = 'Core Set+Get of 1 MiB: Memalloc time / APCu apcu_store + apcu_fetch time'; AtMost = 1.0
            Of = @{ Suite = 'Core'; Case = 'SetGet'; Subject = 'Memalloc'; Size = 1048576 }
            Over = @{ Suite = 'Peers'; Case = 'SetGet'; Subject = 'APCu'; Size = 1048576 } }
        @{ Source = 'issue 15'; Target = 'CopyValue of 1 MiB into a reused buffer: bandwidth / Buffer.MemoryCopy bandwidth'; AtLeast = 0.8
            Of = @{ Suite = 'Core'; Case = 'Copy'; Subject = 'Buffer.MemoryCopy'; Size = 1048576 }
            Over = @{ Suite = 'Core'; Case = 'CopyValue'; Subject = 'Memalloc'; Size = 1048576 } }
        @{ Source = 'design §5'; Target = 'Get of 1 MiB (a new byte[]): bandwidth / Buffer.MemoryCopy bandwidth'; AtLeast = 0.5
            Of = @{ Suite = 'Core'; Case = 'Copy'; Subject = 'Buffer.MemoryCopy'; Size = 1048576 }
            Over = @{ Suite = 'Core'; Case = 'Get'; Subject = 'Memalloc'; Size = 1048576 } }
        @{ Source = 'design §5'; Target = 'Reads per second: two reader processes / one'; AtLeast = 1.7
            Of = @{ Suite = 'Readers'; Subject = 'Memalloc'; Readers = 2 }
            Over = @{ Suite = 'Readers'; Subject = 'Memalloc'; Readers = 1 } }
        @{ Source = 'design §5'; Target = 'Random reads of 100 B without huge pages (shmem_enabled never): 1,000,000 stacks / 100 stacks'; AtMost = 1.5
            Of = @{ Suite = 'Scale'; Case = 'GetRandom'; Subject = 'Memalloc'; Stacks = 1000000; HugePages = 'never' }
            Over = @{ Suite = 'Scale'; Case = 'GetRandom'; Subject = 'Memalloc'; Stacks = 100; HugePages = 'never' } }
        @{ Source = 'issue 15'; Target = 'Random reads at 1,000,000 without huge pages (never): Memalloc / APCu apcu_fetch'; AtMost = 1.0
            Of = @{ Suite = 'Scale'; Case = 'GetRandom'; Subject = 'Memalloc'; Stacks = 1000000; HugePages = 'never' }
            Over = @{ Suite = 'Scale'; Case = 'GetRandom'; Subject = 'APCu'; Stacks = 1000000; HugePages = 'never' } }
        @{ Source = 'design §5'; Target = 'Random reads of 100 B with huge pages allowed (shmem_enabled advise): 1,000,000 stacks / 100 stacks'; AtMost = 1.5
            Of = @{ Suite = 'Scale'; Case = 'GetRandom'; Subject = 'Memalloc'; Stacks = 1000000; HugePages = 'advise' }
            Over = @{ Suite = 'Scale'; Case = 'GetRandom'; Subject = 'Memalloc'; Stacks = 100; HugePages = 'advise' } }
        @{ Source = 'issue 15'; Target = 'Random reads at 1,000,000 with huge pages allowed (advise): Memalloc / APCu apcu_fetch'; AtMost = 1.0
            Of = @{ Suite = 'Scale'; Case = 'GetRandom'; Subject = 'Memalloc'; Stacks = 1000000; HugePages = 'advise' }
            Over = @{ Suite = 'Scale'; Case = 'GetRandom'; Subject = 'APCu'; Stacks = 1000000; HugePages = 'advise' } }
        @{ Source = 'design §5'; Target = 'Set-MemStack + Get-MemStack of a small object / Set/Get-Variable + PSSerializer round trip'; AtMost = 1.2
            Of = @{ Suite = 'Cmdlets'; Case = 'Set+Get'; Subject = 'Memalloc'; Data = 'small object' }
            Over = @{ Suite = 'Cmdlets'; Case = 'Set+Get'; Subject = 'Set/Get-Variable + PSSerializer'; Data = 'small object' } }
        @{ Source = 'design §5'; Target = 'Export/Import-Clixml on /dev/shm / Set-MemStack + Get-MemStack, small object'; AtLeast = 5.0
            Of = @{ Suite = 'Cmdlets'; Case = 'Set+Get'; Subject = 'Export/Import-Clixml (/dev/shm)'; Data = 'small object' }
            Over = @{ Suite = 'Cmdlets'; Case = 'Set+Get'; Subject = 'Memalloc'; Data = 'small object' } }
        @{ Source = 'issue 15'; Target = 'Get-MemStack of a 1 MiB string / PSSerializer.Deserialize of the same'; AtMost = 1.1
            Of = @{ Suite = 'Cmdlets'; Case = 'Get'; Subject = 'Memalloc'; Data = '1 MiB string' }
            Over = @{ Suite = 'Cmdlets'; Case = 'Get'; Subject = 'PSSerializer'; Data = '1 MiB string' } }
        @{ Source = 'issue 15'; Target = 'Get-MemStack of 10,000 objects / PSSerializer.Deserialize of the same'; AtMost = 1.1
            Of = @{ Suite = 'Cmdlets'; Case = 'Get'; Subject = 'Memalloc'; Data = '10,000 objects' }
            Over = @{ Suite = 'Cmdlets'; Case = 'Get'; Subject = 'PSSerializer'; Data = '10,000 objects' } }
        @{ Source = 'issue 15'; Target = 'Set-MemStack of a 1 MiB string / PSSerializer.Serialize + UTF-8 of the same'; AtMost = 1.1
            Of = @{ Suite = 'Cmdlets'; Case = 'Set'; Subject = 'Memalloc'; Data = '1 MiB string' }
            Over = @{ Suite = 'Cmdlets'; Case = 'Set'; Subject = 'PSSerializer'; Data = '1 MiB string' } }
        @{ Source = 'issue 15'; Target = 'Set-MemStack of 10,000 objects / PSSerializer.Serialize + UTF-8 of the same'; AtMost = 1.1
            Of = @{ Suite = 'Cmdlets'; Case = 'Set'; Subject = 'Memalloc'; Data = '10,000 objects' }
            Over = @{ Suite = 'Cmdlets'; Case = 'Set'; Subject = 'PSSerializer'; Data = '10,000 objects' } }
        @{ Source = 'issue 15'; Target = 'Cold start, CPU time of a fresh pwsh: Memalloc import, set, get / Export-Clixml, Import-Clixml'; AtMost = 1.0
            Of = @{ Suite = 'ColdStart'; Subject = 'Memalloc' }
            Over = @{ Suite = 'ColdStart'; Subject = 'Export/Import-Clixml' } }
        @{ Source = 'issue 15'; Target = '4 processes incrementing one counter: Update-MemStack -Increment / Clixml file under a named Mutex (throughput)'; AtLeast = 10.0
            Of = @{ Suite = 'Contention'; Case = 'Increment'; Subject = 'Memalloc' }
            Over = @{ Suite = 'Contention'; Case = 'Increment'; Subject = 'Clixml file + named Mutex' } }
        @{ Source = 'issue 15'; Target = '4 processes incrementing one counter: Memalloc final count / increments made (exact)'; AtLeast = 1.0; AtMost = 1.0
            Of = @{ Suite = 'Contention'; Case = 'final count'; Subject = 'Memalloc' }
            Over = @{ Suite = 'Contention'; Case = 'increments made'; Subject = 'Memalloc' } }
        @{ Source = 'issue 14'; Target = 'Export-MemStore of 100,000 stacks of 1 KiB / writing the same bytes to a file with fsync ("little more than copying their bytes")'; AtMost = 2.0
            Of = @{ Suite = 'Snapshots'; Case = 'Export'; Subject = 'Memalloc' }
            Over = @{ Suite = 'Snapshots'; Case = 'Export'; Subject = 'File write + fsync' } }
        @{ Source = 'issue 14'; Target = 'Export-MemStore of 100,000 stacks of 1 KiB / Export-Clixml of the same values as a hashtable'; AtMost = 1.0
            Of = @{ Suite = 'Snapshots'; Case = 'Export'; Subject = 'Memalloc' }
            Over = @{ Suite = 'Snapshots'; Case = 'Export'; Subject = 'Export-Clixml' } }
        @{ Source = 'issue 14'; Target = 'Import-MemStore of 100,000 stacks of 1 KiB into a new store / Import-Clixml of the same values as a hashtable'; AtMost = 1.0
            Of = @{ Suite = 'Snapshots'; Case = 'Import'; Subject = 'Memalloc' }
            Over = @{ Suite = 'Snapshots'; Case = 'Import'; Subject = 'Import-Clixml' } }
        @{ Source = 'issue 14'; Target = 'Export-MemStore of 100,000 stacks of 1 KiB / Redis SAVE of the same data'; AtMost = 2.0
            Of = @{ Suite = 'Snapshots'; Case = 'Export'; Subject = 'Memalloc' }
            Over = @{ Suite = 'Snapshots'; Case = 'Export'; Subject = 'Redis SAVE' } }
    )
}
