// The target's CmdSN window (RFC 7143 §4.2.2.1, §3.2.2.1 of RFC 3720): which commands
// are delivered now, held for a gap, or silently dropped, and what MaxCmdSN to advertise.

import ISCSI

/// Orders non-immediate commands by CmdSN, in serial arithmetic.
///
/// A non-immediate command with CmdSN = ExpCmdSN is delivered and advances ExpCmdSN;
/// one further inside the window waits until the gap before it fills; one outside
/// the window, or already seen, is ignored without an answer, as RFC 7143 requires.
/// Immediate commands are delivered at once and advance nothing. An aborted command
/// that has not had its turn (held, or not even arrived) keeps its CmdSN as a slot
/// that ExpCmdSN passes over, so the commands after it are not held forever.
struct TargetCommandWindow<Held> {
    enum Admission: Equatable {
        case deliver
        case hold
        case drop
    }

    /// A CmdSN inside the window ahead of ExpCmdSN: a command waiting for its turn, or
    /// one aborted before it (counted as received, RFC 7143 §11.5.1).
    private enum Slot {
        case waiting(Held)
        case aborted
    }

    private(set) var expCmdSN: UInt32
    /// Commands the initiator may have in flight beyond ExpCmdSN.
    let size: UInt32
    private var advertisedMaxCmdSN: UInt32
    private var held: [UInt32: Slot] = [:]

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
        guard isAhead(cmdSN: cmdSN) else { return .drop }
        if cmdSN == expCmdSN {
            expCmdSN &+= 1
            return .deliver
        }
        // A duplicate of a held command, or an aborted one arriving late, is dropped like any other duplicate.
        guard held[cmdSN] == nil else { return .drop }
        held[cmdSN] = .waiting(command)
        return .hold
    }

    /// The next held command whose turn has come, advancing ExpCmdSN past it and past
    /// any aborted slots before it.
    mutating func nextReady() -> Held? {
        // Bounded: each turn removes one slot.
        while let slot = held.removeValue(forKey: expCmdSN) {
            expCmdSN &+= 1
            if case .waiting(let command) = slot { return command }
        }
        return nil
    }

    /// Aborts the held command at `cmdSN` if it `matches` (ABORT TASK of a command that
    /// has not had its turn); its CmdSN stays taken.
    mutating func abortHeld(cmdSN: UInt32, where matches: (Held) -> Bool) -> Held? {
        guard case .waiting(let command)? = held[cmdSN], matches(command) else { return nil }
        held[cmdSN] = .aborted
        return command
    }

    /// Aborts every held command before `limit` that `matches` (ABORT TASK SET and the
    /// resets reach every command sent before them); returns how many.
    mutating func abortHeld(before limit: UInt32, where matches: (Held) -> Bool) -> Int {
        var aborted = 0
        for (cmdSN, slot) in held where SerialNumber(cmdSN) < SerialNumber(limit) {
            if case .waiting(let command) = slot, matches(command) {
                held[cmdSN] = .aborted
                aborted += 1
            }
        }
        return aborted
    }

    /// Whether `cmdSN` lies from ExpCmdSN to MaxCmdSN: a command the window has not reached yet.
    func isAhead(cmdSN: UInt32) -> Bool {
        let serial = SerialNumber(cmdSN)
        return !(serial < SerialNumber(expCmdSN)) && !(SerialNumber(advertisedMaxCmdSN) < serial)
    }

    /// ABORT TASK of a command sent but not yet arrived: when `cmdSN` is inside the window
    /// and free, it is taken as received and aborted, so the command is dropped if it comes.
    mutating func abortUnreceived(cmdSN: UInt32) -> Bool {
        guard isAhead(cmdSN: cmdSN), held[cmdSN] == nil else { return false }
        held[cmdSN] = .aborted
        return true
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
