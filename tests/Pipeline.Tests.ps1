# What the stack cmdlets make of the objects piped into them: store objects (issue 10, defect 1), stack objects whose
# names hold wildcard characters (defect 6), and bad records among good ones (defect 7).

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    # $Piped is the store whose object is piped; $Other holds a stack named like $Piped, the one the wrong binding
    # used to touch.
    $Piped = New-TestStoreName
    $Other = New-TestStoreName
    $DefaultStore = 'default'
    $DefaultExisted = [bool] (Get-MemStore -Name $DefaultStore -ErrorAction SilentlyContinue)

    function Reset-Stores {
        foreach ($storeName in $Piped, $Other) {
            Get-MemStackInfo -Store $storeName | Remove-MemStack
        }
        Set-MemStack -Name 'p1' -Value 'one' -Store $Piped
        Set-MemStack -Name 'p2' -Value 'two' -Store $Piped
        Set-MemStack -Name $Piped -Value 'named like the piped store' -Store $Other
        Set-MemStack -Name $Piped -Value 'named like the piped store' -Store $DefaultStore
    }

    function Get-StoreObject { Get-MemStore -Name $Piped }
}

AfterAll {
    Remove-TestStore $Piped, $Other
    Remove-MemStack -LiteralName $Piped -Store $DefaultStore -ErrorAction SilentlyContinue
    if (-not $DefaultExisted -and -not (Get-MemStackInfo -Store $DefaultStore)) {
        Remove-TestStore $DefaultStore
    }
}

Describe 'Issue 10 defect 1: a store object piped into a stack cmdlet is never taken for a stack' {
    BeforeEach { Reset-Stores }

    It 'Get-MemStore x | Get-MemStackInfo lists the stacks of store x' {
        $infos = Get-StoreObject | Get-MemStackInfo -ErrorVariable err
        $err | Should -BeNullOrEmpty
        $infos.Name | Should -Be @('p1', 'p2')
        $infos.Store | Should -Be @($Piped, $Piped)
    }

    It 'Get-MemStore x | Get-MemStackInfo -Name filters the stacks of store x' {
        (Get-StoreObject | Get-MemStackInfo -Name 'p2').Name | Should -BeExactly 'p2'
    }

    It 'Get-MemStore x | Remove-MemStack refuses the store, removes nothing and goes on' {
        $output = Get-StoreObject | Remove-MemStack -ErrorVariable err -ErrorAction SilentlyContinue
        $output | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'StackNameRequired,Memalloc.Commands.RemoveMemStackCommand'
        "$($err[0].CategoryInfo.Category)" | Should -Be 'InvalidArgument'
        Test-MemStack -Name $Piped -Store $DefaultStore | Should -BeTrue
        (Get-MemStackInfo -Store $Piped).Name | Should -Be @('p1', 'p2')
    }

    It 'Get-MemStore x | Remove-MemStack -Name removes in store x only' {
        Get-StoreObject | Remove-MemStack -Name 'p1'
        (Get-MemStackInfo -Store $Piped).Name | Should -Be @('p2')
        Test-MemStack -Name $Piped -Store $DefaultStore | Should -BeTrue
    }

    It 'Get-MemStore x | Remove-MemStack -Store y refuses the conflict and touches neither store' {
        Get-StoreObject | Remove-MemStack -Store $Other -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'PipelineStoreConflict,Memalloc.Commands.RemoveMemStackCommand'
        Test-MemStack -Name $Piped -Store $Other | Should -BeTrue
        (Get-MemStackInfo -Store $Piped).Count | Should -Be 2
    }

    It 'Get-MemStore x | Get-MemStack refuses the store; with -Name it reads store x' {
        Get-StoreObject | Get-MemStack -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'StackNameRequired,Memalloc.Commands.GetMemStackCommand'
        Get-StoreObject | Get-MemStack -Name 'p1' | Should -BeExactly 'one'
    }

    It 'Get-MemStore x | Test-MemStack refuses the store; with -Name it tests in store x' {
        Get-StoreObject | Test-MemStack -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'StackNameRequired,Memalloc.Commands.TestMemStackCommand'
        Get-StoreObject | Test-MemStack -Name 'p1', $Piped | Should -Be @($true, $false)
    }

    It 'Get-MemStore x | Set-MemStack stores the store object as the value, in the store -Store names' {
        Get-StoreObject | Set-MemStack -Name 'snapshot' -Store $Other
        (Get-MemStack -Name 'snapshot' -Store $Other).Name | Should -BeExactly $Piped
        Get-MemStack -Name $Piped -Store $Other | Should -BeExactly 'named like the piped store'
        (Get-MemStackInfo -Store $Piped).Name | Should -Be @('p1', 'p2')
    }

    It 'Get-MemStore x | Update-MemStack is refused by the binder, and nothing changes' {
        { Get-StoreObject | Update-MemStack -Name 'p1' -ScriptBlock { 'changed' } -ErrorAction Stop } |
            Should -Throw -ErrorId 'InputObjectNotBound,Memalloc.Commands.UpdateMemStackCommand'
        Get-MemStack -Name 'p1' -Store $Piped | Should -BeExactly 'one'
    }

    It 'a store object that went through CliXml (a job, Import-Clixml) is still a store' {
        $deserialized = [System.Management.Automation.PSSerializer]::Deserialize(
            [System.Management.Automation.PSSerializer]::Serialize((Get-StoreObject)))
        $deserialized.PSObject.TypeNames[0] | Should -BeExactly 'Deserialized.Memalloc.MemStoreInfo'
        $deserialized | Remove-MemStack -ErrorAction SilentlyContinue
        Test-MemStack -Name $Piped -Store $DefaultStore | Should -BeTrue
        ($deserialized | Get-MemStackInfo).Name | Should -Be @('p1', 'p2')
    }

    It 'store objects mixed with names and stack objects: each record is what it is' {
        $records = @('p1', (Get-StoreObject), (Get-MemStackInfo -Name 'p2' -Store $Piped))
        $records | Get-MemStack -Store $Piped -ErrorVariable err -ErrorAction SilentlyContinue | Should -Be @('one', 'two')
        $err.FullyQualifiedErrorId | Should -Be 'StackNameRequired,Memalloc.Commands.GetMemStackCommand'
    }

    It 'Get-MemStackInfo -Store x | Remove-MemStack keeps working' {
        Get-MemStackInfo -Store $Piped | Remove-MemStack
        Get-MemStackInfo -Store $Piped | Should -BeNullOrEmpty
        Test-MemStack -Name $Piped -Store $Other | Should -BeTrue
    }
}

Describe 'Issue 10 defect 6: a piped stack object names its stack literally' {
    BeforeEach {
        Get-MemStackInfo -Store $Piped | Remove-MemStack
        Set-MemStack -Name 'a[1]' -Value 'brackets' -Store $Piped
        Set-MemStack -Name 'a1' -Value 'plain' -Store $Piped
    }

    It 'Set-MemStack a[1] creates it, and -LiteralName reaches it in <Cmdlet>' -TestCases @(
        @{ Cmdlet = 'Get-MemStack' }
        @{ Cmdlet = 'Get-MemStackInfo' }
        @{ Cmdlet = 'Remove-MemStack' }
    ) {
        param ($Cmdlet)
        $output = & $Cmdlet -LiteralName 'a[1]' -Store $Piped -ErrorVariable err
        $err | Should -BeNullOrEmpty
        switch ($Cmdlet) {
            'Get-MemStack' { $output | Should -BeExactly 'brackets' }
            'Get-MemStackInfo' { $output.Name | Should -BeExactly 'a[1]' }
            'Remove-MemStack' { (Get-MemStackInfo -Store $Piped).Name | Should -Be @('a1') }
        }
    }

    It '-LiteralName of a missing stack is MemStackNotFound, never a pattern' {
        { Get-MemStack -LiteralName 'a*' -Store $Piped -ErrorAction Stop } |
            Should -Throw -ErrorId 'MemStackNotFound,Memalloc.Commands.GetMemStackCommand'
    }

    It '-Name a[1] stays a pattern (as -Path does): it matches a1' {
        Get-MemStack -Name 'a[1]' -Store $Piped | Should -BeExactly 'plain'
    }

    It 'completion offers the name unescaped to -LiteralName and escaped to -Name, and both forms read a[1]' {
        $literal = Get-CompletionText "Get-MemStack -Store $Piped -LiteralName a["
        $literal | Should -Be @("'a[1]'")
        Invoke-Expression "Get-MemStack -Store $Piped -LiteralName $literal" | Should -BeExactly 'brackets'
        $pattern = Get-CompletionText "Remove-MemStack -Store $Piped -Name a["
        $pattern | Should -Be @("'a``[1``]'")
        Invoke-Expression "Get-MemStack -Store $Piped -Name $pattern" | Should -BeExactly 'brackets'
    }

    It 'Get-MemStackInfo | Remove-MemStack removes the stack named a[1], not a1' {
        Get-MemStackInfo -Store $Piped | Where-Object Name -EQ 'a[1]' | Remove-MemStack
        (Get-MemStackInfo -Store $Piped).Name | Should -Be @('a1')
    }

    It 'Get-MemStackInfo | Get-MemStack reads the stack named a[1]' {
        Get-MemStackInfo -Store $Piped | Where-Object Name -EQ 'a[1]' | Get-MemStack | Should -BeExactly 'brackets'
    }

    It 'a piped stack object with -Name given too is a conflict, not a guess' {
        Get-MemStackInfo -Store $Piped | Where-Object Name -EQ 'a1' |
            Remove-MemStack -Name 'a`[1`]' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'PipelineStoreConflict,Memalloc.Commands.RemoveMemStackCommand'
        (Get-MemStackInfo -Store $Piped).Count | Should -Be 2
    }
}

Describe 'Issue 10 defect 7: one invalid record in piped input is an error for that record only' {
    BeforeAll {
        Get-MemStackInfo -Store $Other | Remove-MemStack
        Set-MemStack -Name 'ok1' -Value 1 -Store $Other
        Set-MemStack -Name 'ok2' -Value 2 -Store $Other
    }

    It '<Cmdlet> goes on past an invalid name (<Scenario>)' -TestCases @(
        @{ Cmdlet = 'Get-MemStack'; Scenario = 'empty'; Bad = ''; Expected = @(1, 2) }
        @{ Cmdlet = 'Get-MemStack'; Scenario = 'control character'; Bad = "a`tb"; Expected = @(1, 2) }
        @{ Cmdlet = 'Get-MemStackInfo'; Scenario = 'empty'; Bad = ''; Expected = @('ok1', 'ok2') }
        @{ Cmdlet = 'Test-MemStack'; Scenario = 'lone surrogate'; Bad = "x$([char] 0xD800)"; Expected = @($true, $true) }
    ) {
        param ($Cmdlet, $Bad, $Expected)
        $output = 'ok1', $Bad, 'ok2' | & $Cmdlet -Store $Other -ErrorVariable err -ErrorAction SilentlyContinue
        if ($Cmdlet -eq 'Get-MemStackInfo') { $output = $output.Name }
        $output | Should -Be $Expected
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidName,*'
        "$($err[0].CategoryInfo.Category)" | Should -Be 'InvalidArgument'
    }

    It 'Remove-MemStack goes on past an invalid name' {
        Set-MemStack -Name 'gone1' -Value 1 -Store $Other
        Set-MemStack -Name 'gone2' -Value 1 -Store $Other
        'gone1', '', 'gone2' | Remove-MemStack -Store $Other -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        Test-MemStack -Name 'gone1', 'gone2' -Store $Other | Should -Be @($false, $false)
    }

    It 'goes on past a record whose Store property is not a valid store name' {
        $records = @(
            [pscustomobject]@{ Name = 'ok1'; Store = 'not a store' }
            [pscustomobject]@{ Name = 'ok2'; Store = $Other }
        )
        $records | Get-MemStack -ErrorVariable err -ErrorAction SilentlyContinue | Should -Be 2
        $err[0].FullyQualifiedErrorId | Should -Be 'InvalidStoreName,Memalloc.Commands.GetMemStackCommand'
    }

    It 'still stops at an invalid name given on the command line' {
        { Get-MemStack -Name "a`tb" -Store $Other -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'InvalidName,Memalloc.Commands.GetMemStackCommand'
    }
}
