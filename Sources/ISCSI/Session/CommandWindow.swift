// The session's command window: which CmdSN goes out next and whether the target lets it (RFC 7143 §4.2.2.1, §3.2.2.1).

/// CmdSN assignment, ExpCmdSN/MaxCmdSN tracking and ExpStatSN acknowledgement.
///
/// A non-immediate command may be sent only while its CmdSN is within
/// [ExpCmdSN, MaxCmdSN]; a window with MaxCmdSN = ExpCmdSN - 1 is closed. The
/// target's pair is ignored when MaxCmdSN < ExpCmdSN - 1, and each value only
/// ever moves forward, because responses on several connections (or a stale
/// NOP-In) may arrive out of order.
public struct CommandWindow: Sendable, Equatable {
    /// The CmdSN the next non-immediate command takes.
    public private(set) var cmdSN: SerialNumber
    public private(set) var expCmdSN: SerialNumber
    public private(set) var maxCmdSN: SerialNumber
    /// The StatSN we expect next; sent as ExpStatSN to acknowledge status.
    public private(set) var expStatSN: SerialNumber

    public init(cmdSN: UInt32, expCmdSN: UInt32, maxCmdSN: UInt32, expStatSN: UInt32) {
        self.cmdSN = SerialNumber(cmdSN)
        self.expCmdSN = SerialNumber(expCmdSN)
        self.maxCmdSN = SerialNumber(maxCmdSN)
        self.expStatSN = SerialNumber(expStatSN)
    }

    /// True while the next non-immediate command may be sent.
    public var isOpen: Bool { !(maxCmdSN < cmdSN) }

    /// How many more non-immediate commands the target accepts now.
    public var available: Int {
        guard isOpen else { return 0 }
        return Int(maxCmdSN.rawValue &- cmdSN.rawValue) + 1
    }

    /// Takes the next CmdSN for a non-immediate command. Only valid while `isOpen`.
    public mutating func takeCmdSN() -> UInt32 {
        precondition(isOpen, "a command was sent while the CmdSN window was closed")
        defer { cmdSN = cmdSN + 1 }
        return cmdSN.rawValue
    }

    /// The CmdSN an immediate PDU carries: the next one, without taking it.
    public var immediateCmdSN: UInt32 { cmdSN.rawValue }

    /// Applies the ExpCmdSN/MaxCmdSN of a target PDU; returns true when the window grew.
    @discardableResult
    public mutating func update(expCmdSN newExp: UInt32, maxCmdSN newMax: UInt32) -> Bool {
        let exp = SerialNumber(newExp)
        let max = SerialNumber(newMax)
        // A MaxCmdSN more than one behind ExpCmdSN is invalid; both are ignored.
        if max < exp - 1 { return false }
        let wasAvailable = available
        if expCmdSN < exp { expCmdSN = exp }
        if maxCmdSN < max { maxCmdSN = max }
        // Some targets (istgt 0.4 reads the I bit of Text Requests from the wrong bit) advance
        // ExpCmdSN for immediate PDUs. A CmdSN below ExpCmdSN would be discarded as a duplicate,
        // so follow the target rather than wait forever for a command it will never execute.
        if cmdSN < expCmdSN { cmdSN = expCmdSN }
        return available > wasAvailable
    }

    /// Records a StatSN that a status-bearing PDU carried.
    public mutating func acknowledge(statSN: UInt32) {
        let next = SerialNumber(statSN) + 1
        if expStatSN < next { expStatSN = next }
    }

    /// Records the "next StatSN" that NOP-In, R2T and Async Message carry without consuming one.
    public mutating func observe(nextStatSN: UInt32) {
        let next = SerialNumber(nextStatSN)
        if expStatSN < next { expStatSN = next }
    }
}
