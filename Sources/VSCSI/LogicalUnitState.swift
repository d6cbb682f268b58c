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
    /// Nexuses lost and not heard from since, each with the order of its loss.
    var lostNexuses: [Nexus: UInt64] = [:]
    var lossCount: UInt64 = 0

    /// Lost nexuses remembered (for their I_T NEXUS LOSS OCCURRED unit attention) before
    /// the longest gone is forgotten: an export serving many short sessions with fresh
    /// ISIDs would otherwise keep a record for every initiator port it ever saw.
    static let lostNexusMemory = 128

    /// Counts `nexus` as lost; past `lostNexusMemory`, the one lost longest ago is forgotten.
    mutating func rememberLost(_ nexus: Nexus) {
        lossCount &+= 1
        lostNexuses[nexus] = lossCount
        guard lostNexuses.count > Self.lostNexusMemory, let oldest = lostNexuses.min(by: { $0.value < $1.value })?.key else { return }
        lostNexuses[oldest] = nil
        // A registration outlives its sessions (SPC-5 §5.14.7), and with it what the nexus is told.
        guard persistentReservations.key(of: oldest) == nil else { return }
        seen.remove(oldest)
        unitAttentions[oldest] = nil
        abortGenerations[oldest] = nil
        copies = copies.filter { $0.key.nexus != oldest }
    }

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
