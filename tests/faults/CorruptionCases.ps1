# The corruptions of Security.Tests.ps1 'A corrupted store': one table for discovery (test names) and for the run
# (BeforeAll corrupts every store, then one child pwsh probes them all).
# Offsets of docs/store-format.md (src/Memalloc.Core/Layout.cs): anchor, arena header, record header.
@(
    @{ Scenario = 'anchor magic overwritten'; Segment = 'anchor'; Offset = 0; Hex = '5858585858585858'; Level = 'anchor' }
    @{ Scenario = 'anchor arena reference to a missing segment'; Segment = 'anchor'; Offset = 256; U64 = 'missing'; Level = 'anchor' }
    @{ Scenario = 'anchor arena reference to a foreign segment'; Segment = 'anchor'; Offset = 256; U64 = 'foreign'; Level = 'anchor' }
    @{ Scenario = 'arena magic overwritten'; Segment = 'arena'; Offset = 0; Hex = '5858585858585858'; Level = 'arena' }
    @{ Scenario = 'arena capacity beyond the segment'; Segment = 'arena'; Offset = 24; U64 = '0x10000000000'; Level = 'arena' }
    @{ Scenario = 'arena slot count beyond the segment'; Segment = 'arena'; Offset = 32; U64 = '0x10000000000'; Level = 'arena' }
    @{ Scenario = 'arena heap offset beyond the segment'; Segment = 'arena'; Offset = 40; U64 = '0x10000000000'; Level = 'arena' }
    @{ Scenario = 'arena bump pointer beyond the segment'; Segment = 'arena'; Offset = 56; U64 = '0x10000000000'; Level = 'arena' }
    @{ Scenario = 'arena heap offset inside the index'; Segment = 'arena'; Offset = 40; U64 = '0x88'; Level = 'arena' }
    @{ Scenario = 'index slot pointing past the arena'; Segment = 'slot'; Change = 'beyond'; Level = 'record' }
    @{ Scenario = 'index slot pointing into the middle of a record'; Segment = 'slot'; Change = 'middle'; Level = 'record' }
    @{ Scenario = 'index slot pointing into the index'; Segment = 'slot'; Change = 'index'; Level = 'record' }
    @{ Scenario = 'record value length beyond the arena'; Segment = 'record'; Offset = 16; U64 = '0x10000000000'; Level = 'record' }
    @{ Scenario = 'record value length negative'; Segment = 'record'; Offset = 16; U64 = '0xFFFFFFFFFFFFFFF0'; Level = 'record' }
    @{ Scenario = 'record name length changed'; Segment = 'record'; Offset = 13; Hex = 'ff'; Level = 'record' }
    @{ Scenario = 'record type-name length beyond the arena'; Segment = 'record'; Offset = 14; Hex = 'ffff'; Level = 'record' }
    @{ Scenario = 'record magic overwritten'; Segment = 'record'; Offset = 8; Hex = '58585858'; Level = 'record' }
    @{ Scenario = 'record value byte flipped'; Segment = 'value'; Level = 'record' }
    @{ Scenario = 'record name byte flipped'; Segment = 'record'; Offset = 64; Hex = '5a'; Level = 'record' }
)
