// Login Response PDU, opcode 0x23 (RFC 7143 §11.13).

import NIOCore

public struct LoginResponse: Sendable, Equatable {
    public var transit: Bool
    public var `continue`: Bool
    public var currentStage: LoginStage
    public var nextStage: LoginStage
    public var versionMax: UInt8
    public var versionActive: UInt8
    public var isid: UInt64
    public var tsih: UInt16
    public var initiatorTaskTag: UInt32
    public var statSN: UInt32
    public var expCmdSN: UInt32
    public var maxCmdSN: UInt32
    /// Status-Class (§11.13.5): 0 success, 1 redirection, 2 initiator error, 3 target error.
    public var statusClass: UInt8
    public var statusDetail: UInt8
    public var data: ByteBuffer

    public init(
        transit: Bool,
        continue: Bool = false,
        currentStage: LoginStage,
        nextStage: LoginStage,
        versionMax: UInt8 = 0,
        versionActive: UInt8 = 0,
        isid: UInt64,
        tsih: UInt16,
        initiatorTaskTag: UInt32,
        statSN: UInt32,
        expCmdSN: UInt32,
        maxCmdSN: UInt32,
        statusClass: UInt8 = 0,
        statusDetail: UInt8 = 0,
        data: ByteBuffer
    ) {
        self.transit = transit
        self.continue = `continue`
        self.currentStage = currentStage
        self.nextStage = nextStage
        self.versionMax = versionMax
        self.versionActive = versionActive
        self.isid = isid
        self.tsih = tsih
        self.initiatorTaskTag = initiatorTaskTag
        self.statSN = statSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
        self.statusClass = statusClass
        self.statusDetail = statusDetail
        self.data = data
    }
}
