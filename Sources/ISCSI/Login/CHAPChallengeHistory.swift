// The mutual CHAP challenges this process sent to targets lately, so that a target which
// hands one of them back as its own challenge (a reflection, RFC 7143 §9.2.1) is caught:
// answering it would give that target the proof it was asked for in another login.

import NIOConcurrencyHelpers

/// A bounded record of the challenges our initiators issued, shared by every login.
final class CHAPChallengeHistory: Sendable {
    static let shared = CHAPChallengeHistory(capacity: 1024)

    private let capacity: Int
    private let state = NIOLockedValueBox(Record())

    private struct Record {
        var order: [[UInt8]] = []
        var next = 0
        var known: Set<[UInt8]> = []
    }

    init(capacity: Int) {
        precondition(capacity > 0, "a challenge history holds at least one challenge")
        self.capacity = capacity
    }

    /// Notes a challenge we are about to send; the oldest is forgotten past the capacity.
    func record(_ challenge: [UInt8]) {
        state.withLockedValue { record in
            if record.order.count < capacity {
                record.order.append(challenge)
            } else {
                record.known.remove(record.order[record.next])
                record.order[record.next] = challenge
                record.next = (record.next + 1) % capacity
            }
            record.known.insert(challenge)
        }
    }

    /// Whether `challenge` is one we sent.
    func contains(_ challenge: [UInt8]) -> Bool {
        state.withLockedValue { $0.known.contains(challenge) }
    }
}
