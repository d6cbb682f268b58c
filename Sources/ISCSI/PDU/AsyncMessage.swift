// Asynchronous Message PDU, opcode 0x32 (RFC 7143 §11.9).

import NIOCore

/// The AsyncEvent field (§11.9.1).
public enum AsyncEvent: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// Sense data in the data segment (a unit attention, usually).
    case scsiAsyncEvent = 0
    /// Parameter3 seconds to log out within.
    case logoutRequested = 1
    /// Parameter1 names the CID the target will drop.
    case connectionDropped = 2
    case allConnectionsDropped = 3
    case renegotiationRequested = 4
    case vendorSpecific = 255

    public var description: String {
        switch self {
        case .scsiAsyncEvent: "SCSI asynchronous event"
        case .logoutRequested: "target requests logout"
        case .connectionDropped: "target will drop the connection"
        case .allConnectionsDropped: "target will drop all connections"
        case .renegotiationRequested: "target requests parameter renegotiation"
        case .vendorSpecific: "vendor-specific event"
        }
    }
}

public struct AsyncMessage: Sendable, Equatable {
    public var lun: UInt64
    public var statSN: UInt32
    public var expCmdSN: UInt32
    public var maxCmdSN: UInt32
    /// Raw AsyncEvent byte; `AsyncEvent` names the defined values.
    public var asyncEvent: UInt8
    public var asyncVCode: UInt8
    public var parameter1: UInt16
    public var parameter2: UInt16
    public var parameter3: UInt16
    /// For a SCSI async event: 2-byte SenseLength, sense data, then iSCSI event data.
    public var data: ByteBuffer

    public init(
        lun: UInt64 = 0,
        statSN: UInt32,
        expCmdSN: UInt32,
        maxCmdSN: UInt32,
        asyncEvent: UInt8,
        asyncVCode: UInt8 = 0,
        parameter1: UInt16 = 0,
        parameter2: UInt16 = 0,
        parameter3: UInt16 = 0,
        data: ByteBuffer = ByteBuffer()
    ) {
        self.lun = lun
        self.statSN = statSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
        self.asyncEvent = asyncEvent
        self.asyncVCode = asyncVCode
        self.parameter1 = parameter1
        self.parameter2 = parameter2
        self.parameter3 = parameter3
        self.data = data
    }
}
