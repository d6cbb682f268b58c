// Reject PDU, opcode 0x3F (RFC 7143 §11.17).

import NIOCore

/// The Reason field (§11.17.1).
public enum RejectReason: UInt8, Sendable, Hashable, CustomStringConvertible {
    case dataDigestError = 0x02
    case snackReject = 0x03
    case protocolError = 0x04
    case commandNotSupported = 0x05
    case immediateCommandRejected = 0x06
    case taskInProgress = 0x07
    case invalidDataACK = 0x08
    case invalidPDUField = 0x09
    case longOperationReject = 0x0A
    case deprecated = 0x0B
    case waitingForLogout = 0x0C

    public var description: String {
        switch self {
        case .dataDigestError: "data digest error"
        case .snackReject: "SNACK reject"
        case .protocolError: "protocol error"
        case .commandNotSupported: "command not supported"
        case .immediateCommandRejected: "immediate command rejected (too many immediate commands)"
        case .taskInProgress: "task in progress"
        case .invalidDataACK: "invalid data ACK"
        case .invalidPDUField: "invalid PDU field"
        case .longOperationReject: "long operation reject (out of resources)"
        case .deprecated: "deprecated"
        case .waitingForLogout: "waiting for logout"
        }
    }
}

public struct Reject: Sendable, Equatable {
    /// Raw Reason byte; `RejectReason` names the defined values.
    public var reason: UInt8
    public var statSN: UInt32
    public var expCmdSN: UInt32
    public var maxCmdSN: UInt32
    public var dataSN: UInt32
    /// The complete header of the rejected PDU (48 bytes).
    public var data: ByteBuffer

    public init(reason: UInt8, statSN: UInt32, expCmdSN: UInt32, maxCmdSN: UInt32, dataSN: UInt32 = 0, data: ByteBuffer) {
        self.reason = reason
        self.statSN = statSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
        self.dataSN = dataSN
        self.data = data
    }

    /// The ITT of the rejected PDU, when its header is present.
    public var rejectedInitiatorTaskTag: UInt32? {
        guard data.readableBytes >= 20 else { return nil }
        return data.getInteger(at: data.readerIndex + 16, as: UInt32.self)
    }
}
