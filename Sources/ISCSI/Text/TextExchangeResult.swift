// The outcome of one Text Request/Response exchange (RFC 7143 §11.10, §11.11).

/// The target's whole answer and the sequence numbers the session continues from.
public struct TextExchangeResult: Sendable, Equatable {
    public var pairs: [TextKeyValue]
    /// StatSN of the last Text Response plus one.
    public var expStatSN: UInt32
    public var expCmdSN: UInt32
    public var maxCmdSN: UInt32
    /// The CmdSN for the session's next non-immediate PDU. Normally unchanged by an
    /// immediate exchange, but never behind the target's ExpCmdSN: istgt 0.4
    /// counts an immediate Text Request as if it used a CmdSN.
    public var nextCmdSN: UInt32

    public init(pairs: [TextKeyValue], expStatSN: UInt32, expCmdSN: UInt32, maxCmdSN: UInt32, nextCmdSN: UInt32) {
        self.pairs = pairs
        self.expStatSN = expStatSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
        self.nextCmdSN = nextCmdSN
    }
}
