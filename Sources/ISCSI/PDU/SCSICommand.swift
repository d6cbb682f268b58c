// SCSI Command PDU, opcode 0x01 (RFC 7143 §11.3).

import NIOCore

/// Task attributes (RFC 7143 §11.3.1.2, SAM-5).
public enum TaskAttribute: UInt8, Sendable, Hashable {
    case untagged = 0
    case simple = 1
    case ordered = 2
    case headOfQueue = 3
    case acaTask = 4
}

public struct SCSICommand: Sendable, Equatable {
    public var immediate: Bool
    /// F bit: no unsolicited Data-Out PDUs follow.
    public var final: Bool
    /// R bit: data will be read from the target.
    public var read: Bool
    /// W bit: data will be written to the target.
    public var write: Bool
    public var attribute: TaskAttribute
    /// The 8-byte LUN field, already in SAM encoding (see `LUN`).
    public var lun: UInt64
    public var initiatorTaskTag: UInt32
    public var expectedDataTransferLength: UInt32
    public var cmdSN: UInt32
    public var expStatSN: UInt32
    /// The CDB; bytes past 16 travel in an Extended CDB AHS (§11.2.2.3).
    public var cdb: [UInt8]
    /// Bidirectional Read Expected Data Transfer Length AHS (§11.2.2.4), for bidirectional commands.
    public var bidirectionalReadDataLength: UInt32?
    /// Immediate data.
    public var data: ByteBuffer

    public init(
        immediate: Bool = false,
        final: Bool = true,
        read: Bool,
        write: Bool,
        attribute: TaskAttribute = .simple,
        lun: UInt64,
        initiatorTaskTag: UInt32,
        expectedDataTransferLength: UInt32,
        cmdSN: UInt32,
        expStatSN: UInt32,
        cdb: [UInt8],
        bidirectionalReadDataLength: UInt32? = nil,
        data: ByteBuffer = ByteBuffer()
    ) {
        self.immediate = immediate
        self.final = final
        self.read = read
        self.write = write
        self.attribute = attribute
        self.lun = lun
        self.initiatorTaskTag = initiatorTaskTag
        self.expectedDataTransferLength = expectedDataTransferLength
        self.cmdSN = cmdSN
        self.expStatSN = expStatSN
        self.cdb = cdb
        self.bidirectionalReadDataLength = bidirectionalReadDataLength
        self.data = data
    }
}
