// The export's admission limits, against a real export with raw connections: connections
// that have not logged in are capped per source address and per export (one past a cap is
// closed on arrival), sessions are capped per initiator name (0x0302), each refusal is
// counted, and the warnings about them are rate-limited.

@testable import Export
import Foundation
import ISCSI
import Logging
import NIOCore
import Synchronization
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct ExportAdmissionLimitTests {
    /// Polls `condition` every 20 ms for at most 10 s.
    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw RawISCSIClient.Failure(description: "timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Opens a connection from `source` (the export sees it once it has counted it).
    static func connect(_ port: Int, from source: String) async throws -> RawISCSIClient {
        try await OffPool.run { try RawISCSIClient(port: port, timeoutSeconds: 10, source: source) }
    }

    /// Whether the export closes `client` without a word, waiting up to 5 s for it.
    static func closedOnArrival(_ client: RawISCSIClient) async throws -> Bool {
        try await OffPool.run { try client.isReadable(within: 5000) && client.receive() == nil }
    }

    /// Whether `client` is still open with nothing to read (an admitted connection waiting for a login).
    static func waiting(_ client: RawISCSIClient) -> Bool {
        !client.isReadable(within: 0)
    }

    @Test func connectionsWaitingToLogInAreCappedPerSourceAndPerExport() async throws {
        try await ExportHarness.with(configure: { configuration in
            configuration.maximumPendingLogins = 6
            configuration.maximumPendingLoginsPerSource = 4
            configuration.descriptorReserve = 0
            configuration.loginTimeout = .seconds(60)
        }) { harness in
            let port = harness.portal.port
            let server = harness.server
            var first: [RawISCSIClient] = []
            for count in 1...4 {
                first.append(try await Self.connect(port, from: "127.0.0.1"))
                try await Self.waitUntil("\(count) pending logins") { server.pendingLogins == count }
            }
            #expect(first.allSatisfy(Self.waiting), "the first four from 127.0.0.1 are within the per-source cap")
            let overSource = try await Self.connect(port, from: "127.0.0.1")
            #expect(try await Self.closedOnArrival(overSource), "a fifth connection from 127.0.0.1 is closed on arrival")
            #expect(server.refusals.pendingLoginsPerSource == 1)

            // Another address is not held back by 127.0.0.1's cap, and logs in.
            let other = try await Self.connect(port, from: "127.0.0.2")
            try await Self.waitUntil("5 pending logins") { server.pendingLogins == 5 }
            let login = try await OffPool.run { try other.login(target: ExportHarness.iqn, initiator: "iqn.2025-01.io.vdiskd:other") }
            #expect(login.statusClass == 0, "status \(login.statusClass)/\(login.statusDetail)")
            try await Self.waitUntil("the login to leave the pending count") { server.pendingLogins == 4 }

            // The export-wide cap (6): two more from a third address fit, the next does not.
            var third: [RawISCSIClient] = []
            for count in 5...6 {
                third.append(try await Self.connect(port, from: "127.0.0.3"))
                try await Self.waitUntil("\(count) pending logins") { server.pendingLogins == count }
            }
            #expect(third.allSatisfy(Self.waiting))
            let overExport = try await Self.connect(port, from: "127.0.0.4")
            #expect(try await Self.closedOnArrival(overExport), "a seventh waiting connection is closed on arrival")
            #expect(server.refusals.pendingLogins == 1)
            #expect(server.refusals.pendingLoginsPerSource == 1)

            // A waiting connection that goes away frees its place at once.
            first.removeLast()
            try await Self.waitUntil("the closed connection to leave the pending count") { server.pendingLogins == 5 }
            let again = try await Self.connect(port, from: "127.0.0.1")
            try await Self.waitUntil("127.0.0.1's new connection to be admitted") { server.pendingLogins == 6 }
            #expect(Self.waiting(again), "127.0.0.1 has a free place again")
            #expect(server.refusals.total == 2)
            withExtendedLifetime((first, third, other, again)) {}
        }
    }

    @Test func sessionsAreCappedPerInitiatorName() async throws {
        try await ExportHarness.with(configure: { configuration in
            configuration.maximumSessionsPerInitiator = 2
        }) { harness in
            let port = harness.portal.port
            let greedy = "iqn.2025-01.io.vdiskd:greedy"
            func login(_ initiator: String, isid: UInt64) async throws -> (RawISCSIClient, LoginResponse) {
                try await OffPool.run { () throws -> (RawISCSIClient, LoginResponse) in
                    let client = try RawISCSIClient(port: port, timeoutSeconds: 10)
                    return (client, try client.login(target: ExportHarness.iqn, initiator: initiator, isid: isid))
                }
            }
            var kept: [RawISCSIClient] = []
            for isid: UInt64 in [0x80_0000_0001_01, 0x80_0000_0001_02] {
                let (client, response) = try await login(greedy, isid: isid)
                #expect(response.statusClass == 0, "session \(isid) of \(greedy): \(response.statusClass)/\(response.statusDetail)")
                kept.append(client)
            }
            let (refused, third) = try await login(greedy, isid: 0x80_0000_0001_03)
            #expect(third.statusClass == 3 && third.statusDetail == 2, "a third session gets 0x0302: \(third.statusClass)/\(third.statusDetail)")
            #expect(try await OffPool.run { try refused.receive() } == nil, "and its connection is closed")
            #expect(harness.server.refusals.sessionsPerInitiator == 1)

            // Another initiator is not held back by greedy's cap.
            let (modest, modestResponse) = try await login("iqn.2025-01.io.vdiskd:modest", isid: 0x80_0000_0001_04)
            #expect(modestResponse.statusClass == 0)

            // One of greedy's sessions ends; its place is free again.
            kept.removeLast()
            try await Self.waitUntil("greedy's second session to end") { harness.server.sessionCount == 2 }
            let (_, again) = try await login(greedy, isid: 0x80_0000_0001_05)
            #expect(again.statusClass == 0, "\(again.statusClass)/\(again.statusDetail)")
            #expect(harness.server.refusals.total == 1)
            withExtendedLifetime((kept, modest)) {}
        }
    }

    /// A flood of refusals makes one warning per interval; the next says how many it left out.
    @Test func refusalWarningsAreRateLimited() async throws {
        let log = CapturedLog()
        let admission = ExportAdmission(
            maximumPendingLogins: 1, maximumPendingLoginsPerSource: 1, descriptorReserve: 0,
            logger: Logger(label: "admission.test", factory: { _ in log.handler }), warningInterval: .milliseconds(300)
        )
        #expect(admission.admitConnection(from: "10.0.0.1") == nil)
        for _ in 0..<100 { #expect(admission.admitConnection(from: "10.0.0.2") != nil) }
        #expect(log.lines.count == 1, "\(log.lines)")
        try await Task.sleep(for: .milliseconds(400))
        #expect(admission.admitConnection(from: "10.0.0.3") != nil)
        let lines = log.lines
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.last?.metadata["export.refusals_not_logged"] == "99", "\(lines)")
        #expect(lines.allSatisfy { $0.level == .warning && $0.message.contains("max_pending_logins") })
        #expect(admission.refusals.pendingLogins == 101)
        admission.leftLogin(source: "10.0.0.1")
        #expect(admission.pendingLogins == 0)
    }

    /// The descriptor reserve: an accepted connection that leaves fewer free is turned away,
    /// counted, and does not stay in the pending count.
    @Test func theDescriptorReserveTurnsConnectionsAway() {
        let usage = Mutex(DescriptorUsage(open: 90, limit: 100))
        let admission = ExportAdmission(
            maximumPendingLogins: 10, maximumPendingLoginsPerSource: 10, descriptorReserve: 16,
            logger: Logger(label: "admission.test", factory: { _ in CapturedLog().handler }),
            descriptors: { usage.withLock { $0 } }
        )
        let refusal = admission.admitConnection(from: "10.0.0.1")
        #expect(refusal?.contains("90 of 100 descriptors") == true, "\(refusal ?? "admitted")")
        #expect(admission.refusals.descriptors == 1 && admission.pendingLogins == 0)
        usage.withLock { $0.open = 84 }
        #expect(admission.admitConnection(from: "10.0.0.1") == nil, "16 free is the reserve, not below it")
        #expect(admission.pendingLogins == 1)
        // The real count of this process: some open, fewer than its limit.
        let current = DescriptorUsage.current()
        #expect(current.map { $0.open > 3 && $0.open < $0.limit } == true, "\(String(describing: current))")
    }
}

/// Log lines kept for a test to read.
final class CapturedLog: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let stored = Mutex<[Line]>([])

    var lines: [Line] { stored.withLock { $0 } }

    var handler: some LogHandler { Handler(log: self) }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let line = Line(level: event.level, message: "\(event.message)", metadata: metadata.merging(event.metadata ?? [:]) { $1 })
            log.stored.withLock { $0.append(line) }
        }
    }
}
