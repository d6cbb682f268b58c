// Text requests on a target connection (RFC 7143 §11.10-§11.11): SendTargets answered,
// renegotiation declined, long answers sent in pieces with the C bit and a TTT.

import ISCSI
import NIOCore

/// One connection's text exchange: the initiator's text arriving in pieces, and our
/// answer leaving in pieces.
struct TargetTextExchange {
    /// What to do with one Text Request.
    enum Step: Equatable {
        case reject(RejectReason)
        case reply(ByteBuffer, final: Bool, continue: Bool, targetTransferTag: UInt32)
    }

    /// A long Text Response being sent in pieces.
    private struct Continuation {
        var initiatorTaskTag: UInt32
        var targetTransferTag: UInt32
        var pieces: [ByteBuffer]
    }

    /// Keys that may not be renegotiated in full feature phase: every one keeps its login value.
    private static let loginOnlyKeys: Set<String> = [
        "MaxRecvDataSegmentLength", "HeaderDigest", "DataDigest", "MaxBurstLength",
        "FirstBurstLength", "DefaultTime2Wait", "DefaultTime2Retain",
    ]

    private let sessionType: SessionType
    /// The SendTargets answer for a query value ("All", an IQN, or empty).
    private let sendTargets: @Sendable (String) -> [TextKeyValue]
    private var continuation: Continuation?
    private var accumulator = TextSegmentAccumulator(limits: .exchange)

    init(sessionType: SessionType, sendTargets: @escaping @Sendable (String) -> [TextKeyValue]) {
        self.sessionType = sessionType
        self.sendTargets = sendTargets
    }

    /// The step for `request`, with pieces no longer than `segmentLimit`.
    mutating func received(_ request: TextRequest, segmentLimit: Int, tags: inout TargetTransferTags) -> Step {
        if request.targetTransferTag != reservedTag {
            // The initiator asks for the next piece of a long answer.
            guard var continuation, continuation.targetTransferTag == request.targetTransferTag,
                continuation.initiatorTaskTag == request.initiatorTaskTag
            else { return .reject(.invalidPDUField) }
            let piece = continuation.pieces.removeFirst()
            let more = !continuation.pieces.isEmpty
            self.continuation = more ? continuation : nil
            return .reply(piece, final: !more, continue: more, targetTransferTag: more ? continuation.targetTransferTag : reservedTag)
        }
        continuation = nil
        let pairs: [TextKeyValue]
        do {
            guard let complete = try accumulator.append(request.data, continues: request.continue) else {
                // More of the initiator's text to come: acknowledge with an empty response (§11.11.2).
                return .reply(ByteBuffer(), final: false, continue: false, targetTransferTag: tags.take())
            }
            pairs = complete
        } catch {
            return .reject(.protocolError)
        }
        let pieces = TextSegmentSplitter.split(ByteBuffer(textKeyValues: answer(pairs)), maximumSegmentLength: segmentLimit)
        guard pieces.count > 1 else {
            return .reply(pieces.first ?? ByteBuffer(), final: true, continue: false, targetTransferTag: reservedTag)
        }
        let tag = tags.take()
        continuation = Continuation(initiatorTaskTag: request.initiatorTaskTag, targetTransferTag: tag, pieces: Array(pieces.dropFirst()))
        return .reply(pieces[0], final: false, continue: true, targetTransferTag: tag)
    }

    private func answer(_ pairs: [TextKeyValue]) -> [TextKeyValue] {
        var answer: [TextKeyValue] = []
        for pair in pairs {
            if pair.key == "SendTargets" {
                if sessionType == .normal, pair.value == "All" {
                    // RFC 7143 §12.1.1: in a normal session only the session's own target is reported.
                    answer += sendTargets("")
                } else {
                    answer += sendTargets(pair.value)
                }
            } else if TextValue.special(pair.value) == nil {
                let value: TextValue.Special = Self.loginOnlyKeys.contains(pair.key) ? .reject : .notUnderstood
                answer.append(TextKeyValue(pair.key, value.rawValue))
            }
        }
        return answer
    }
}
