// When a target connection pings a silent initiator with a NOP-In, drops one that does
// not answer, and closes an idle discovery session (RFC 7143 §11.19, §6.1.2).

import ISCSI
import NIOCore

/// The liveness of one connection's initiator, by the clock the caller passes in.
struct TargetKeepalive {
    /// What the timer should do now.
    enum Due: Equatable {
        case nothing
        /// Send a NOP-In ping (and report it with `pinged`).
        case ping
        /// The ping went unanswered: drop the connection, for this reason.
        case drop(reason: String)
    }

    /// A NOP-In we sent and wait to see answered.
    private struct Ping {
        var targetTransferTag: UInt32
        var sent: NIODeadline
    }

    private let pingInterval: TimeAmount?
    private let pingTimeout: TimeAmount
    private let idleTimeout: TimeAmount?
    private let sessionType: SessionType
    private var ping: Ping?
    /// When the initiator last sent anything.
    private var lastHeard: NIODeadline
    /// When the initiator last asked for something other than a ping.
    private var lastRequest: NIODeadline

    init(pingInterval: TimeAmount?, pingTimeout: TimeAmount, idleTimeout: TimeAmount?, sessionType: SessionType, now: NIODeadline) {
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.idleTimeout = idleTimeout
        self.sessionType = sessionType
        self.lastHeard = now
        self.lastRequest = now
    }

    /// Any PDU arrived.
    mutating func heard(now: NIODeadline) {
        lastHeard = now
    }

    /// A request other than a NOP-Out arrived.
    mutating func requested(now: NIODeadline) {
        lastRequest = now
    }

    /// Why the session should close for idleness, if it should: only with no task left.
    func idleExpiry(now: NIODeadline, hasTasks: Bool) -> String? {
        guard let idleTimeout, !hasTasks, now - lastRequest >= idleTimeout else { return nil }
        return "the \(sessionType) session sent no request for \(idleTimeout.nanoseconds / 1_000_000_000) s"
    }

    func due(now: NIODeadline) -> Due {
        guard let pingInterval else { return .nothing }
        if let ping {
            guard now - ping.sent >= pingTimeout else { return .nothing }
            return .drop(reason: "the initiator did not answer a NOP-In within \(pingTimeout.nanoseconds / 1_000_000) ms")
        }
        return now - lastHeard >= pingInterval ? .ping : .nothing
    }

    /// A ping went out with this tag.
    mutating func pinged(targetTransferTag: UInt32, now: NIODeadline) {
        ping = Ping(targetTransferTag: targetTransferTag, sent: now)
    }

    /// A NOP-Out answering a ping: whether it answers the one outstanding.
    mutating func answered(targetTransferTag: UInt32) -> Bool {
        guard let ping, ping.targetTransferTag == targetTransferTag else { return false }
        self.ping = nil
        return true
    }
}
