// Login Request PDU, opcode 0x03 (RFC 7143 §11.12).

import NIOCore

/// Login stages (CSG/NSG, §11.12.3).
public enum LoginStage: UInt8, Sendable, Hashable, CustomStringConvertible {
    case securityNegotiation = 0
    case operationalNegotiation = 1
    case fullFeaturePhase = 3

    public var description: String {
        switch self {
        case .securityNegotiation: "security negotiation"
        case .operationalNegotiation: "operational negotiation"
        case .fullFeaturePhase: "full feature phase"
        }
    }
}

public struct LoginRequest: Sendable, Equatable {
    /// T bit: the initiator is ready to move to `nextStage`.
    public var transit: Bool
    /// C bit: the text in `data` continues in the next PDU.
    public var `continue`: Bool
    public var currentStage: LoginStage
    /// Meaningful only with `transit`.
    public var nextStage: LoginStage
    public var versionMax: UInt8
    public var versionMin: UInt8
    /// The 6-byte ISID, in the low 48 bits.
    public var isid: UInt64
    public var tsih: UInt16
    public var initiatorTaskTag: UInt32
    public var connectionID: UInt16
    public var cmdSN: UInt32
    public var expStatSN: UInt32
    /// Text key=value pairs, each NUL-terminated.
    public var data: ByteBuffer

    public init(
        transit: Bool,
        continue: Bool = false,
        currentStage: LoginStage,
        nextStage: LoginStage,
        versionMax: UInt8 = 0,
        versionMin: UInt8 = 0,
        isid: UInt64,
        tsih: UInt16,
        initiatorTaskTag: UInt32,
        connectionID: UInt16,
        cmdSN: UInt32,
        expStatSN: UInt32,
        data: ByteBuffer
    ) {
        self.transit = transit
        self.continue = `continue`
        self.currentStage = currentStage
        self.nextStage = nextStage
        self.versionMax = versionMax
        self.versionMin = versionMin
        self.isid = isid
        self.tsih = tsih
        self.initiatorTaskTag = initiatorTaskTag
        self.connectionID = connectionID
        self.cmdSN = cmdSN
        self.expStatSN = expStatSN
        self.data = data
    }
}
