// What the fake target saw, shared between its connections (on their event loops) and the test.

import ISCSI
import NIOConcurrencyHelpers
import NIOCore

/// A record of every PDU the fake target received, plus the rule breaks it noticed.
///
/// Tests read it while the target runs, so everything sits behind one lock and
/// the waits poll it: a bounded poll is simpler and plainly finite, and nothing
/// here is on a hot path.
///
/// Times are taken on the fake's event loop as things happen. Timing checks use
/// them rather than clocks read in the test body: Swift Testing runs tests in
/// parallel on the two-thread cooperative pool, and a long synchronous test
/// beside ours delays when the test body *notices* an error, not when the
/// initiator raised it.
final class FakeTargetLog: Sendable {
    private struct State {
        var pdus: [(at: NIODeadline, pdu: ISCSIPDU)] = []
        var connections = 0
        /// Of the newest connection: accepted, final Login Response sent, closed.
        var connectedAt: NIODeadline?
        var loggedInAt: NIODeadline?
        var closedAt: NIODeadline?
        /// Commands that arrived with a CmdSN beyond the MaxCmdSN last advertised.
        var windowViolations: [String] = []
        /// The most SCSI commands that were ever received and not yet answered at once.
        var maximumOutstanding = 0
        /// Why the fake target's own decoder gave up on the initiator's bytes.
        var decodeErrors: [String] = []
    }

    private let state = NIOLockedValueBox(State())

    func record(_ pdu: ISCSIPDU) { state.withLockedValue { $0.pdus.append((.now(), pdu)) } }
    func connectionOpened() {
        state.withLockedValue {
            $0.connections += 1
            ($0.connectedAt, $0.loggedInAt, $0.closedAt) = (.now(), nil, nil)
        }
    }
    func loggedIn() { state.withLockedValue { $0.loggedInAt = .now() } }
    func connectionClosed() { state.withLockedValue { $0.closedAt = .now() } }
    func windowViolation(_ what: String) { state.withLockedValue { $0.windowViolations.append(what) } }
    func decodeError(_ what: String) { state.withLockedValue { $0.decodeErrors.append(what) } }
    func outstanding(_ count: Int) {
        state.withLockedValue { $0.maximumOutstanding = max($0.maximumOutstanding, count) }
    }

    var pdus: [ISCSIPDU] { state.withLockedValue { $0.pdus.map(\.pdu) } }
    /// Every PDU with the time it arrived.
    var timedPDUs: [(at: NIODeadline, pdu: ISCSIPDU)] { state.withLockedValue { $0.pdus } }
    var connections: Int { state.withLockedValue { $0.connections } }
    var connectedAt: NIODeadline? { state.withLockedValue { $0.connectedAt } }
    var loggedInAt: NIODeadline? { state.withLockedValue { $0.loggedInAt } }
    var closedAt: NIODeadline? { state.withLockedValue { $0.closedAt } }
    var windowViolations: [String] { state.withLockedValue { $0.windowViolations } }
    var maximumOutstanding: Int { state.withLockedValue { $0.maximumOutstanding } }
    var decodeErrors: [String] { state.withLockedValue { $0.decodeErrors } }

    /// The SCSI commands received so far, in arrival order.
    var commands: [SCSICommand] {
        pdus.compactMap { if case .scsiCommand(let command) = $0 { command } else { nil } }
    }

    /// Polls until `find` returns something, for at most `timeout`.
    func waitFor<T>(
        _ what: String,
        within timeout: Duration = BoundedWait.hangGuard,
        _ find: (FakeTargetLog) -> T?
    ) async throws -> T {
        try await BoundedWait.poll(what, within: timeout) { find(self) }
    }
}
