// The target's answers to an initiator's operational keys (RFC 7143 §6.2, §13): each
// key's result function from OperationalKey applied to the offer and our limit.

/// Answers operational keys and accumulates the agreed values, without I/O.
struct TargetOperationalNegotiation: Sendable, OperationalResponder {
    let limits: TargetOperationalLimits
    let sessionType: SessionType
    private(set) var parameters = TargetSessionParameters()
    /// Keys already answered, so a repeated negotiation is caught (RFC 7143 §6.2).
    private var seen: Set<OperationalKey> = []
    private var declaredOurLength = false

    /// Why a key broke the rules; the login ends with 0x0200.
    struct Failure: Error, Equatable {
        var reason: String
    }

    init(limits: TargetOperationalLimits, sessionType: SessionType) {
        self.limits = limits
        self.sessionType = sessionType
        parameters.ourMaxRecvDataSegmentLength = limits.maxRecvDataSegmentLength
    }

    /// Our answers to `pairs` (security keys are skipped: the caller handles them).
    mutating func answer(_ pairs: [TextKeyValue], securityKeys: Set<String>) throws(Failure) -> [TextKeyValue] {
        var answers: [TextKeyValue] = []
        for pair in pairs where !securityKeys.contains(pair.key) {
            guard let key = OperationalKey(rawValue: pair.key) else {
                // X- extension keys and anything unknown; a special value is itself an answer.
                if TextValue.special(pair.value) == nil {
                    answers.append(TextKeyValue(pair.key, TextValue.Special.notUnderstood.rawValue))
                }
                continue
            }
            if key.rule != .declarative {
                guard seen.insert(key).inserted else {
                    throw Failure(reason: "\(key.rawValue) negotiated twice in one login")
                }
            }
            if let answer = try answer(key, pair.value) { answers.append(answer) }
        }
        return answers
    }

    /// Our own declaration, sent once in the operational stage (§13.12 is declarative per direction).
    mutating func declarations() -> [TextKeyValue] {
        guard !declaredOurLength else { return [] }
        declaredOurLength = true
        return [TextKeyValue(OperationalKey.maxRecvDataSegmentLength.rawValue, String(limits.maxRecvDataSegmentLength))]
    }

    private mutating func answer(_ key: OperationalKey, _ value: String) throws(Failure) -> TextKeyValue? {
        switch key.rule {
        case .declarative:
            try declare(key, value)
            return nil
        case .security:
            // AuthMethod outside the security stage has nothing left to choose.
            return TextKeyValue(key.rawValue, TextValue.Special.irrelevant.rawValue)
        case .obsolete:
            // RFC 3720 markers: "No" is the only value either side may hold now, and
            // the interval keys are answered Reject (RFC 7143 §13, "Obsoleted Keys").
            if TextValue.special(value) != nil { return nil }
            switch key {
            case .ofMarker, .ifMarker: return TextKeyValue(key.rawValue, "No")
            default: return TextKeyValue(key.rawValue, TextValue.Special.reject.rawValue)
            }
        case .numerical, .boolean, .list:
            if TextValue.special(value) != nil { return nil }
            if sessionType == .discovery, Self.sessionWide.contains(key) {
                return TextKeyValue(key.rawValue, TextValue.Special.irrelevant.rawValue)
            }
            let result = respond(key, to: value)
            if TextValue.special(result) == nil { record(key, result) }
            return TextKeyValue(key.rawValue, result)
        }
    }

    /// Keys with no meaning in a discovery session (RFC 7143 §13: "Irrelevant when SessionType=Discovery").
    private static let sessionWide: Set<OperationalKey> = [
        .maxConnections, .initialR2T, .immediateData, .maxBurstLength, .firstBurstLength, .maxOutstandingR2T,
        .dataPDUInOrder, .dataSequenceInOrder,
    ]

    private mutating func declare(_ key: OperationalKey, _ value: String) throws(Failure) {
        switch key {
        case .maxRecvDataSegmentLength:
            guard let length = TextValue.number(value), OperationalKey.segmentRange.contains(length) else {
                throw Failure(reason: "MaxRecvDataSegmentLength=\(value) is outside \(OperationalKey.segmentRange)")
            }
            parameters.initiatorMaxRecvDataSegmentLength = Int(length)
        case .targetName, .initiatorName, .initiatorAlias, .sessionType, .targetAlias, .targetAddress,
            .targetPortalGroupTag, .sendTargets:
            // Names are the login machine's business; the rest are ours to declare, and an echo changes nothing.
            break
        case .headerDigest, .dataDigest, .maxConnections, .initialR2T, .immediateData, .maxBurstLength,
            .firstBurstLength, .defaultTime2Wait, .defaultTime2Retain, .maxOutstandingR2T, .dataPDUInOrder,
            .dataSequenceInOrder, .errorRecoveryLevel, .authMethod, .taskReporter, .protocolLevel, .ofMarker,
            .ifMarker, .ofMarkInt, .ifMarkInt:
            preconditionFailure("\(key.rawValue) is not a declarative key")
        }
    }

    private mutating func record(_ key: OperationalKey, _ text: String) {
        let number = TextValue.number(text).map { Int(clamping: $0) } ?? 0
        let flag = TextValue.boolean(text) ?? false
        switch key {
        case .headerDigest: parameters.headerDigest = NegotiatedDigest(rawValue: text) ?? .none
        case .dataDigest: parameters.dataDigest = NegotiatedDigest(rawValue: text) ?? .none
        case .maxConnections: parameters.maxConnections = number
        case .initialR2T: parameters.initialR2T = flag
        case .immediateData: parameters.immediateData = flag
        case .maxBurstLength: parameters.maxBurstLength = number
        case .firstBurstLength: parameters.firstBurstLength = number
        case .defaultTime2Wait: parameters.defaultTime2Wait = number
        case .defaultTime2Retain: parameters.defaultTime2Retain = number
        case .maxOutstandingR2T: parameters.maxOutstandingR2T = number
        case .dataPDUInOrder: parameters.dataPDUInOrder = flag
        case .dataSequenceInOrder: parameters.dataSequenceInOrder = flag
        case .errorRecoveryLevel: parameters.errorRecoveryLevel = number
        case .taskReporter, .protocolLevel:
            break
        case .sendTargets, .targetName, .initiatorName, .targetAlias, .initiatorAlias, .targetAddress,
            .targetPortalGroupTag, .maxRecvDataSegmentLength, .sessionType, .authMethod, .ofMarker, .ifMarker,
            .ofMarkInt, .ifMarkInt:
            preconditionFailure("\(key.rawValue) is not negotiated by value")
        }
    }

    /// The parameters in force once the initiator moves to full feature phase.
    func result() -> TargetSessionParameters {
        var result = parameters
        // RFC 7143 §13.14: FirstBurstLength must not exceed MaxBurstLength; an initiator
        // offering it so gets the shorter burst from us in practice.
        result.firstBurstLength = min(result.firstBurstLength, result.maxBurstLength)
        return result
    }

    func ourNumber(for key: OperationalKey) -> UInt64 {
        switch key {
        // One connection per session: sessions are independent I_T nexuses and need no MC/S.
        case .maxConnections: 1
        case .maxBurstLength: UInt64(limits.maxBurstLength)
        case .firstBurstLength: UInt64(limits.firstBurstLength)
        case .defaultTime2Wait: 2
        // Nothing is kept for a lost connection at ErrorRecoveryLevel 0.
        case .defaultTime2Retain: 0
        case .maxOutstandingR2T: UInt64(limits.maxOutstandingR2T)
        case .errorRecoveryLevel: 0
        case .protocolLevel: OperationalKey.implementedProtocolLevel
        case .headerDigest, .dataDigest, .sendTargets, .targetName, .initiatorName, .targetAlias, .initiatorAlias,
            .targetAddress, .targetPortalGroupTag, .initialR2T, .immediateData, .maxRecvDataSegmentLength,
            .dataPDUInOrder, .dataSequenceInOrder, .sessionType, .authMethod, .taskReporter, .ofMarker, .ifMarker,
            .ofMarkInt, .ifMarkInt:
            preconditionFailure("\(key.rawValue) is not a numerical key")
        }
    }

    func ourBoolean(for key: OperationalKey) -> Bool {
        switch key {
        case .initialR2T: limits.initialR2T
        case .immediateData: limits.immediateData
        // Data arrives and leaves in order: the write buffer is filled by offset, and Data-In is sent in order.
        case .dataPDUInOrder, .dataSequenceInOrder: true
        case .headerDigest, .dataDigest, .maxConnections, .sendTargets, .targetName, .initiatorName, .targetAlias,
            .initiatorAlias, .targetAddress, .targetPortalGroupTag, .maxRecvDataSegmentLength, .maxBurstLength,
            .firstBurstLength, .defaultTime2Wait, .defaultTime2Retain, .maxOutstandingR2T, .errorRecoveryLevel,
            .sessionType, .authMethod, .taskReporter, .protocolLevel, .ofMarker, .ifMarker, .ofMarkInt, .ifMarkInt:
            preconditionFailure("\(key.rawValue) is not a boolean key")
        }
    }

    func acceptable(for key: OperationalKey) -> [String] {
        switch key {
        case .headerDigest, .dataDigest: limits.digests.map(\.rawValue)
        case .taskReporter: [OperationalKey.taskReporterRFC3720]
        case .maxConnections, .sendTargets, .targetName, .initiatorName, .targetAlias, .initiatorAlias,
            .targetAddress, .targetPortalGroupTag, .initialR2T, .immediateData, .maxRecvDataSegmentLength,
            .maxBurstLength, .firstBurstLength, .defaultTime2Wait, .defaultTime2Retain, .maxOutstandingR2T,
            .dataPDUInOrder, .dataSequenceInOrder, .errorRecoveryLevel, .sessionType, .authMethod, .protocolLevel,
            .ofMarker, .ifMarker, .ofMarkInt, .ifMarkInt:
            preconditionFailure("\(key.rawValue) is not a list key")
        }
    }
}
