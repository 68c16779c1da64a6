namespace Memalloc.Core;

/// <summary>What a record is: its encoding byte (docs/store-format.md §4.3). Stacks keep the two value encodings they
/// always had; the coordination records (layout version 2) add three kinds. Item and lock records have names that start
/// with their kind byte, a control character no user name can contain.</summary>
internal enum RecordKind : byte
{
    /// <summary>A stack of opaque bytes (<see cref="ValueEncoding.Raw"/>).</summary>
    Raw = 0,
    /// <summary>A stack of CliXml text (<see cref="ValueEncoding.CliXml"/>).</summary>
    CliXml = 1,
    /// <summary>A queue's head: its name is the queue's; the value is a <see cref="QueueHead"/>.</summary>
    QueueHead = 2,
    /// <summary>One item of a queue, named by <see cref="CoordinationRecords.ItemName"/>.</summary>
    QueueItem = 3,
    /// <summary>A held lock, named by <see cref="CoordinationRecords.LockName"/>; the value is a <see cref="LockRecord"/>.</summary>
    Lock = 4,
}
