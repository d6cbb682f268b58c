// Everything a logical unit changes as commands run, kept under one lock: nexuses
// seen, unit attentions, reservations, mode pages, start/stop, sanitize, copies.

import SCSI

struct LogicalUnitState: Sendable {
    /// Unit attentions kept per nexus before the oldest is dropped (SPC-5 §5.14.6: a
    /// queue of any depth is allowed; a few is what real devices keep).
    static let unitAttentionQueueDepth = 8

    var seen: Set<Nexus> = []
    var unitAttentions: [Nexus: [AdditionalSenseCode]] = [:]
    var persistentReservations = PersistentReservationState()
    /// The holder of an SPC-2 RESERVE.
    var legacyReservationHolder: Nexus?
    var mode = ModeParameters()
    var stopped = false
    var sanitize: SanitizeStatus = .idle
    var copies: [CopyKey: CopyRecord] = [:]
    /// Bumped by ABORT TASK SET and PREEMPT AND ABORT; a command that started under an
    /// older value ends in TASK ABORTED before it touches the medium.
    var abortGenerations: [Nexus: UInt64] = [:]

    mutating func queueUnitAttention(_ code: AdditionalSenseCode, for nexus: Nexus) {
        var queue = unitAttentions[nexus] ?? []
        guard !queue.contains(code) else { return }
        if queue.count >= Self.unitAttentionQueueDepth { queue.removeFirst() }
        queue.append(code)
        unitAttentions[nexus] = queue
    }

    mutating func queueUnitAttentionForAll(_ code: AdditionalSenseCode, except excluded: Nexus? = nil) {
        for nexus in seen where nexus != excluded {
            queueUnitAttention(code, for: nexus)
        }
    }

    mutating func popUnitAttention(for nexus: Nexus) -> AdditionalSenseCode? {
        guard var queue = unitAttentions[nexus], !queue.isEmpty else { return nil }
        let first = queue.removeFirst()
        unitAttentions[nexus] = queue.isEmpty ? nil : queue
        return first
    }
}
