// Logout Request PDU, opcode 0x06 (RFC 7143 §11.14).

/// The Reason Code field (§11.14.1).
public enum LogoutReason: UInt8, Sendable, Hashable {
    case closeSession = 0
    case closeConnection = 1
    case removeConnectionForRecovery = 2
}

public struct LogoutRequest: Sendable, Equatable {
    public var immediate: Bool
    public var reason: LogoutReason
    public var initiatorTaskTag: UInt32
    public var connectionID: UInt16
    public var cmdSN: UInt32
    public var expStatSN: UInt32

    public init(
        immediate: Bool = true,
        reason: LogoutReason,
        initiatorTaskTag: UInt32,
        connectionID: UInt16,
        cmdSN: UInt32,
        expStatSN: UInt32
    ) {
        self.immediate = immediate
        self.reason = reason
        self.initiatorTaskTag = initiatorTaskTag
        self.connectionID = connectionID
        self.cmdSN = cmdSN
        self.expStatSN = expStatSN
    }
}
