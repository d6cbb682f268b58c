// The target's CmdSN window (RFC 7143 §4.2.2.1, §3.2.2.1 of RFC 3720): which commands
// are delivered now, held for a gap, or silently dropped, and what MaxCmdSN to advertise.

import ISCSI

/// Orders non-immediate commands by CmdSN, in serial arithmetic.
///
/// A non-immediate command with CmdSN = ExpCmdSN is delivered and advances ExpCmdSN;
/// one further inside the window waits until the gap before it fills; one outside
/// the window, or already seen, is ignored without an answer, as RFC 7143 requires.
/// Immediate commands are delivered at once and advance nothing.
struct TargetCommandWindow<Held> {
    enum Admission: Equatable {
        case deliver
        case hold
        case drop
    }

    private(set) var expCmdSN: UInt32
    /// Commands the initiator may have in flight beyond ExpCmdSN.
    let size: UInt32
    private var advertisedMaxCmdSN: UInt32
    private var held: [UInt32: Held] = [:]

    init(expCmdSN: UInt32, size: UInt32) {
        precondition(size >= 1, "a command window holds at least one command")
        self.expCmdSN = expCmdSN
        self.size = size
        self.advertisedMaxCmdSN = expCmdSN &+ size &- 1
    }

    var heldCount: Int { held.count }

    /// Decides about one command; `.hold` keeps `command` until its turn.
    mutating func admit(cmdSN: UInt32, immediate: Bool, command: Held) -> Admission {
        if immediate { return .deliver }
        let serial = SerialNumber(cmdSN)
        guard !(serial < SerialNumber(expCmdSN)), !(SerialNumber(advertisedMaxCmdSN) < serial) else { return .drop }
        if cmdSN == expCmdSN {
            expCmdSN &+= 1
            return .deliver
        }
        // A duplicate of a held command is dropped like any other duplicate.
        guard held[cmdSN] == nil else { return .drop }
        held[cmdSN] = command
        return .hold
    }

    /// The next held command whose turn has come, advancing ExpCmdSN past it.
    mutating func nextReady() -> Held? {
        guard let command = held.removeValue(forKey: expCmdSN) else { return nil }
        expCmdSN &+= 1
        return command
    }

    /// Removes a held command that `matches` (ABORT TASK of a command that has not had its turn).
    mutating func removeHeld(cmdSN: UInt32, where matches: (Held) -> Bool) -> Held? {
        guard let command = held[cmdSN], matches(command) else { return nil }
        return held.removeValue(forKey: cmdSN)
    }

    /// MaxCmdSN for the next PDU: the window shrinks while `active` tasks use its
    /// slots, so a slow unit bounds how much an initiator can queue here, but it
    /// never moves backwards (an initiator may already have sent up to it).
    mutating func maxCmdSN(active: Int) -> UInt32 {
        let free = size - UInt32(clamping: min(active, Int(size)))
        let candidate = expCmdSN &+ free &- 1
        if SerialNumber(advertisedMaxCmdSN) < SerialNumber(candidate) {
            advertisedMaxCmdSN = candidate
        }
        return advertisedMaxCmdSN
    }
}
