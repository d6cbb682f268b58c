// Logout Response PDU, opcode 0x26 (RFC 7143 §11.15).

public struct LogoutResponse: Sendable, Equatable {
    /// 0 closed successfully, 1 CID not found, 2 recovery not supported, 3 cleanup failed (§11.15.1).
    public var response: UInt8
    public var initiatorTaskTag: UInt32
    public var statSN: UInt32
    public var expCmdSN: UInt32
    public var maxCmdSN: UInt32
    public var time2Wait: UInt16
    public var time2Retain: UInt16

    public init(
        response: UInt8,
        initiatorTaskTag: UInt32,
        statSN: UInt32,
        expCmdSN: UInt32,
        maxCmdSN: UInt32,
        time2Wait: UInt16 = 0,
        time2Retain: UInt16 = 0
    ) {
        self.response = response
        self.initiatorTaskTag = initiatorTaskTag
        self.statSN = statSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
        self.time2Wait = time2Wait
        self.time2Retain = time2Retain
    }
}
