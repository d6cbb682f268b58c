// Who may start a login: connections that have not logged in yet are capped per export and
// per source address, each admission leaves a reserve of descriptors for the rest of the
// process, and the sessions one initiator name may hold are capped. A connection over a
// limit is closed at once, counted, and logged at most every few seconds.

import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Refusals of an export's admission limits since it started.
public struct ExportRefusals: Sendable, Hashable {
    /// Connections closed because the export already had `maximumPendingLogins` not logged in.
    public var pendingLogins = 0
    /// Connections closed because their source address had `maximumPendingLoginsPerSource`.
    public var pendingLoginsPerSource = 0
    /// Connections closed because accepting them left fewer than `descriptorReserve` descriptors.
    public var descriptors = 0
    /// Logins refused (0x0302) because their initiator name had `maximumSessionsPerInitiator`.
    public var sessionsPerInitiator = 0

    public init() {}

    public var total: Int { pendingLogins + pendingLoginsPerSource + descriptors + sessionsPerInitiator }
}

/// The admission limits of one export server and their counts; shared by its connections.
final class ExportAdmission: Sendable {
    let maximumPendingLogins: Int
    let maximumPendingLoginsPerSource: Int
    let descriptorReserve: Int
    /// A refusal is logged at most this often; the lines between are counted in the next one.
    let warningInterval: TimeAmount
    private let logger: Logger
    private let descriptors: @Sendable () -> DescriptorUsage?
    private let state = NIOLockedValueBox(State())

    private struct State {
        var pending = 0
        var pendingBySource: [String: Int] = [:]
        var refusals = ExportRefusals()
        var lastWarning: NIODeadline?
        var unloggedRefusals = 0
    }

    init(
        maximumPendingLogins: Int, maximumPendingLoginsPerSource: Int, descriptorReserve: Int, logger: Logger,
        warningInterval: TimeAmount = .seconds(10),
        descriptors: @escaping @Sendable () -> DescriptorUsage? = DescriptorUsage.current
    ) {
        self.maximumPendingLogins = maximumPendingLogins
        self.maximumPendingLoginsPerSource = maximumPendingLoginsPerSource
        self.descriptorReserve = descriptorReserve
        self.warningInterval = warningInterval
        self.logger = logger
        self.descriptors = descriptors
    }

    /// Counts a new connection from `source` as waiting to log in, or says why it must be
    /// closed (already counted and logged). An admitted connection calls `leftLogin` once,
    /// when it logs in or closes, whichever comes first.
    func admitConnection(from source: String) -> String? {
        let refusal: String? = state.withLockedValue { state in
            guard state.pending < maximumPendingLogins else {
                state.refusals.pendingLogins += 1
                return "\(state.pending) connections are already logging in (max_pending_logins \(maximumPendingLogins))"
            }
            let fromSource = state.pendingBySource[source, default: 0]
            guard fromSource < maximumPendingLoginsPerSource else {
                state.refusals.pendingLoginsPerSource += 1
                return "\(fromSource) connections from \(source) are already logging in (max_pending_logins_per_source \(maximumPendingLoginsPerSource))"
            }
            state.pending += 1
            state.pendingBySource[source] = fromSource + 1
            return nil
        }
        if let refusal {
            warn("connection refused: \(refusal)")
            return refusal
        }
        // The accepted socket is already open and counted here; the reserve must stay free beside it.
        if descriptorReserve > 0, let usage = descriptors(), usage.free < descriptorReserve {
            leftLogin(source: source)
            state.withLockedValue { $0.refusals.descriptors += 1 }
            let reason = "\(usage.open) of \(usage.limit) descriptors are open, and \(descriptorReserve) are kept for the daemon (descriptor_reserve)"
            warn("connection refused: \(reason)")
            return reason
        }
        return nil
    }

    /// An admitted connection logged in or closed: it no longer counts as waiting.
    func leftLogin(source: String) {
        state.withLockedValue { state in
            state.pending -= 1
            let left = state.pendingBySource[source, default: 1] - 1
            state.pendingBySource[source] = left > 0 ? left : nil
        }
    }

    /// Counts and logs a login refused for its initiator's session cap.
    func refusedSession(reason: String) {
        state.withLockedValue { $0.refusals.sessionsPerInitiator += 1 }
        warn("login refused: \(LogText.escaped(reason))")
    }

    var refusals: ExportRefusals { state.withLockedValue { $0.refusals } }
    /// Connections admitted and not logged in yet.
    var pendingLogins: Int { state.withLockedValue { $0.pending } }

    /// A warning, unless one went out within `warningInterval`; then it is only counted and
    /// the next warning says how many were left out. A flood cannot flood the log.
    private func warn(_ message: String) {
        let now = NIODeadline.now()
        let skipped: Int? = state.withLockedValue { state in
            if let last = state.lastWarning, now - last < warningInterval {
                state.unloggedRefusals += 1
                return nil
            }
            state.lastWarning = now
            defer { state.unloggedRefusals = 0 }
            return state.unloggedRefusals
        }
        guard let skipped else { return }
        logger.warning(
            "\(message)",
            metadata: skipped > 0 ? ["export.refusals_not_logged": "\(skipped)"] : [:]
        )
    }
}
