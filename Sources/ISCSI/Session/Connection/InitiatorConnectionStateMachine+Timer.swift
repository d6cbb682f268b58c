// The initiator connection's deadlines: NOP-Out keepalive pings (RFC 7143 §11.18) and the ABORT TASK
// sent for a timed-out command.

import NIOCore

extension InitiatorConnectionStateMachine.FullFeaturePhase {
    /// The timer fired at `now`: an abort left unanswered past its deadline ends the connection;
    /// otherwise the keepalive decides whether to ping or give up on a silent target.
    mutating func timerFired(now: NIODeadline) -> Action {
        if let overdue = abortDeadlines.first(where: { $0.deadline <= now }) {
            return fail(overdue.error)
        }
        guard var keepalive else { return .none }
        let action = keepalive.tick(now: now)
        self.keepalive = keepalive
        switch action {
        case .wait(let deadline):
            keepaliveDue = deadline
            return .none
        case .sendPing(let deadline):
            keepaliveDue = deadline
            guard let tag = tasks.insert(.ping(now)) else { return .none }
            return .write(.nopOut(NOPOut(
                immediate: true,
                initiatorTaskTag: tag,
                cmdSN: window.immediateCmdSN,
                expStatSN: window.expStatSN.rawValue
            )))
        case .timedOut(let silence):
            return fail(ISCSIError(
                .timeout,
                scope: .connection,
                "\(portal) did not answer a NOP-Out ping; nothing received for \(Self.seconds(silence))"
            ))
        }
    }
}
