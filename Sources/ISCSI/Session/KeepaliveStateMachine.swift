// NOP-Out keepalive: when to ping the target and when its silence means the connection is dead (RFC 7143 §11.18, §11.19).

import NIOCore

/// Decides NOP-Out pings from an injected clock.
///
/// A ping goes out when nothing was received for `interval`; the connection is
/// dead when, after a ping, nothing at all arrives for `timeout`. Any PDU from
/// the target proves it alive: under heavy load the NOP-In may queue behind
/// data, and that must not read as a dead target.
public struct KeepaliveStateMachine: Sendable {
    public enum Action: Sendable, Equatable {
        /// Nothing to do before this time.
        case wait(until: NIODeadline)
        /// Send a ping now, then come back at the given time.
        case sendPing(thenWaitUntil: NIODeadline)
        /// The target has been silent for this long after a ping.
        case timedOut(silentFor: TimeAmount)
    }

    private enum State: Sendable {
        case idle
        case awaitingReply(sentAt: NIODeadline)
    }

    public let interval: TimeAmount
    public let timeout: TimeAmount
    private var state: State = .idle
    private var lastReceived: NIODeadline

    public init(interval: TimeAmount, timeout: TimeAmount, now: NIODeadline) {
        precondition(interval > .zero && timeout > .zero, "keepalive interval and timeout must be positive")
        self.interval = interval
        self.timeout = timeout
        self.lastReceived = now
    }

    /// Any PDU arrived from the target.
    public mutating func received(now: NIODeadline) {
        lastReceived = now
        switch state {
        case .idle:
            break
        case .awaitingReply(let sentAt):
            if sentAt <= now { state = .idle }
        }
    }

    /// The timer fired (or the caller wants the next deadline).
    public mutating func tick(now: NIODeadline) -> Action {
        switch state {
        case .idle:
            let due = lastReceived + interval
            if now < due { return .wait(until: due) }
            state = .awaitingReply(sentAt: now)
            return .sendPing(thenWaitUntil: now + timeout)
        case .awaitingReply(let sentAt):
            let deadline = sentAt + timeout
            if now < deadline { return .wait(until: deadline) }
            return .timedOut(silentFor: now - lastReceived)
        }
    }
}
