// The sessions of an export across all its connections: TSIH assignment, session
// reinstatement (RFC 7143 §6.3.5) and the list a reset or shutdown walks.

import ISCSI
import NIOConcurrencyHelpers

/// Live sessions, shared by every connection handler of one server.
final class ExportSessionRegistry: Sendable {
    /// What the registry knows of one session: enough to end it from elsewhere.
    struct Entry: Sendable {
        var initiatorName: String
        var isid: UInt64
        var targetName: String?
        /// Local and remote addresses of the session's connection, for status reports.
        var portal: String
        var initiatorAddress: String
        var close: @Sendable (String) -> Void
        var nexusLost: @Sendable () -> Void
    }

    private struct Table {
        var sessions: [UInt16: Entry] = [:]
        var nextTSIH: UInt16 = 1
        var accepting = true
    }

    let maximumSessions: Int
    /// Discovery sessions are counted apart, so they cannot take the normal sessions' slots.
    let maximumDiscoverySessions: Int
    /// Sessions of either kind one initiator name may hold at once.
    let maximumSessionsPerInitiator: Int
    private let table = NIOLockedValueBox(Table())

    /// Why a login was not given a session.
    struct Refusal: Error {
        var status: LoginStatus
        var reason: String
        /// The initiator's own session cap, counted and logged as an admission refusal.
        var perInitiator = false
    }

    init(maximumSessions: Int = 1024, maximumDiscoverySessions: Int = 16, maximumSessionsPerInitiator: Int = 32) {
        self.maximumSessions = maximumSessions
        self.maximumDiscoverySessions = maximumDiscoverySessions
        self.maximumSessionsPerInitiator = maximumSessionsPerInitiator
    }

    /// A TSIH for `candidate`, or the status that refuses it.
    ///
    /// A leading login with the ISID and initiator name of a live session to the same
    /// target reinstates it: the old session loses its nexus and its connection closes
    /// before the new one is admitted, so the new one never sees the old one's end.
    func admit(
        _ candidate: TargetLoginCandidate,
        portal: String,
        initiatorAddress: String,
        close: @escaping @Sendable (String) -> Void,
        nexusLost: @escaping @Sendable () -> Void
    ) -> Result<UInt16, Refusal> {
        let outcome: (Result<UInt16, Refusal>, Entry?) = table.withLockedValue { table in
            guard table.accepting else { return (.failure(Refusal(status: .outOfResources, reason: "the export is shutting down")), nil) }
            guard candidate.requestedTSIH == 0 else {
                // MaxConnections is 1: no session takes a second connection.
                let unknown = table.sessions[candidate.requestedTSIH] == nil
                return (.failure(Refusal(
                    status: unknown ? .sessionDoesNotExist : .tooManyConnections,
                    reason: unknown ? "no session has TSIH \(candidate.requestedTSIH)" : "session \(candidate.requestedTSIH) takes no second connection"
                )), nil)
            }
            var replaced: Entry?
            if let old = table.sessions.first(where: {
                $0.value.initiatorName == candidate.initiatorName && $0.value.isid == candidate.isid
                    && $0.value.targetName?.lowercased() == candidate.targetName?.lowercased()
            }) {
                replaced = old.value
                table.sessions[old.key] = nil
            }
            // A discovery session names no target; a normal session always does.
            let discovery = candidate.sessionType == .discovery
            let alike = table.sessions.values.count { ($0.targetName == nil) == discovery }
            let cap = discovery ? maximumDiscoverySessions : maximumSessions
            guard alike < cap else {
                return (.failure(Refusal(status: .outOfResources, reason: "all \(cap) \(discovery ? "discovery " : "")session slots are taken")), replaced)
            }
            // iSCSI names compare without case (RFC 3722 normalises them to lower case).
            let name = candidate.initiatorName.lowercased()
            let ofInitiator = table.sessions.values.count { $0.initiatorName.lowercased() == name }
            guard ofInitiator < maximumSessionsPerInitiator else {
                return (.failure(Refusal(
                    status: .outOfResources,
                    reason: "initiator \(candidate.initiatorName) already has \(ofInitiator) sessions (max_sessions_per_initiator \(maximumSessionsPerInitiator))",
                    perInitiator: true
                )), replaced)
            }
            // Bounded: fewer than both maximums together are taken, so a free TSIH is that close.
            var tsih = table.nextTSIH
            var probes = 0
            while (table.sessions[tsih] != nil || tsih == 0) && probes <= maximumSessions + maximumDiscoverySessions {
                tsih &+= 1
                probes += 1
            }
            table.nextTSIH = tsih &+ 1 == 0 ? 1 : tsih &+ 1
            table.sessions[tsih] = Entry(
                initiatorName: candidate.initiatorName, isid: candidate.isid, targetName: candidate.targetName,
                portal: portal, initiatorAddress: initiatorAddress, close: close, nexusLost: nexusLost
            )
            return (.success(tsih), replaced)
        }
        if let replaced = outcome.1 {
            replaced.nexusLost()
            replaced.close("session reinstated by a new login with the same ISID")
        }
        return outcome.0
    }

    /// Forgets a session; true when it was still registered (so its nexus loss is the caller's to report).
    @discardableResult
    func remove(tsih: UInt16) -> Bool {
        table.withLockedValue { $0.sessions.removeValue(forKey: tsih) != nil }
    }

    /// Closes every session of `targetName` (TARGET COLD RESET), except `except`.
    func closeSessions(ofTarget targetName: String, except: UInt16, reason: String) {
        let victims = table.withLockedValue { table in
            table.sessions.filter { $0.key != except && $0.value.targetName?.lowercased() == targetName.lowercased() }.map(\.value)
        }
        for victim in victims { victim.close(reason) }
    }

    /// Refuses new sessions and closes the live ones (shutdown).
    func closeAll(reason: String) {
        let all = table.withLockedValue { table in
            table.accepting = false
            return Array(table.sessions.values)
        }
        for entry in all { entry.close(reason) }
    }

    var count: Int { table.withLockedValue { $0.sessions.count } }

    /// Every live session, by TSIH.
    var sessions: [ExportSessionInfo] {
        table.withLockedValue { table in
            table.sessions.sorted { $0.key < $1.key }.map { tsih, entry in
                ExportSessionInfo(
                    initiatorName: entry.initiatorName, isid: entry.isid, targetName: entry.targetName, tsih: tsih,
                    portal: entry.portal, initiatorAddress: entry.initiatorAddress, connections: 1
                )
            }
        }
    }
}
