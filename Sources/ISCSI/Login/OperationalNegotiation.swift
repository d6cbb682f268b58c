// Operational-stage negotiation (RFC 7143 §6.2, §13): our offers, checking the
// target's answers against each key's result function, answering the target's own
// offers, and turning the outcome into NegotiatedParameters.

/// Pure bookkeeping for one login's operational keys.
///
/// A target answer outside what the key's result function allows (a larger
/// MaxBurstLength than offered, a digest we did not list, Yes for an AND key we
/// offered as No) fails the login with `.negotiationFailed` naming the key.
struct OperationalNegotiation: Sendable, OperationalResponder {
    let proposal: OperationalProposal
    let sessionType: SessionType
    /// Names the target in messages.
    let target: String

    /// What we offered, by key, for keys that expect an answer.
    private var offered: [OperationalKey: String] = [:]
    /// What both sides agreed, by key, as validated text.
    private var agreed: [OperationalKey: String] = [:]
    /// Keys the target has sent, to refuse a second negotiation of the same key.
    private var seen: Set<OperationalKey> = []
    /// Answers we owe for target offers, to spot a target that transits without them.
    private(set) var pendingTargetOffers: [TextKeyValue] = []

    private var targetMaxRecvDataSegmentLength: Int?
    private var targetAlias: String?
    private var targetPortalGroupTag: UInt16?

    init(proposal: OperationalProposal, sessionType: SessionType, target: String) {
        self.proposal = proposal
        self.sessionType = sessionType
        self.target = target
    }

    /// The keys to send in the first operational Login Request.
    mutating func offers() -> [TextKeyValue] {
        var pairs: [TextKeyValue] = []
        func offer(_ key: OperationalKey, _ value: String) {
            pairs.append(TextKeyValue(key.rawValue, value))
            if key.rule != .declarative { offered[key] = value }
        }
        offer(.headerDigest, proposal.headerDigests.map(\.rawValue).joined(separator: ","))
        offer(.dataDigest, proposal.dataDigests.map(\.rawValue).joined(separator: ","))
        offer(.maxRecvDataSegmentLength, String(proposal.maxRecvDataSegmentLength))
        // RFC 7143 §13: the session-wide keys are irrelevant in a discovery session.
        guard sessionType == .normal else { return pairs }
        offer(.initialR2T, TextValue.boolean(proposal.initialR2T))
        offer(.immediateData, TextValue.boolean(proposal.immediateData))
        offer(.maxBurstLength, String(proposal.maxBurstLength))
        offer(.firstBurstLength, String(proposal.firstBurstLength))
        offer(.maxOutstandingR2T, String(proposal.maxOutstandingR2T))
        offer(.maxConnections, String(proposal.maxConnections))
        offer(.defaultTime2Wait, String(proposal.defaultTime2Wait))
        offer(.defaultTime2Retain, String(proposal.defaultTime2Retain))
        offer(.dataPDUInOrder, TextValue.boolean(proposal.dataPDUInOrder))
        offer(.dataSequenceInOrder, TextValue.boolean(proposal.dataSequenceInOrder))
        offer(.errorRecoveryLevel, String(proposal.errorRecoveryLevel))
        if let level = proposal.protocolLevel { offer(.protocolLevel, String(level)) }
        return pairs
    }

    /// Takes the target's keys from one (joined) Login Response.
    ///
    /// - Returns: our answers to the keys the target offered itself, for the next request.
    mutating func receive(_ pairs: [TextKeyValue]) throws(ISCSIError) -> [TextKeyValue] {
        var answers: [TextKeyValue] = []
        for pair in pairs {
            guard let key = OperationalKey(rawValue: pair.key) else {
                // X- and X# extension keys (RFC 7143 §13) and anything else unknown.
                // A special value is itself an answer, never something to answer.
                if TextValue.special(pair.value) == nil {
                    answers.append(TextKeyValue(pair.key, TextValue.Special.notUnderstood.rawValue))
                }
                continue
            }
            // A declaration may be repeated (targets re-send TargetAlias across stages);
            // a negotiated key may not (RFC 7143 §6.2).
            guard seen.insert(key).inserted || key.rule == .declarative else {
                throw failure("target \(target) sent \(key.rawValue) twice in one login (now \(pair.value))")
            }
            if let answer = try receive(key, pair.value) {
                answers.append(answer)
            }
        }
        pendingTargetOffers = answers
        return answers
    }

    private mutating func receive(_ key: OperationalKey, _ value: String) throws(ISCSIError) -> TextKeyValue? {
        switch key.rule {
        case .declarative:
            try declare(key, value)
            return nil
        case .security:
            throw failure(
                "target \(target) sent the security key \(key.rawValue)=\(value) in the operational stage"
            )
        case .obsolete:
            // RFC 7143 §13, "Obsoleted Keys": answer the removed marker keys with Reject, never
            // NotUnderstood; an RFC 3720 target reads Reject as "markers off".
            if TextValue.special(value) != nil { return nil }
            return TextKeyValue(key.rawValue, TextValue.Special.reject.rawValue)
        case .numerical, .boolean, .list:
            if let ours = offered[key] {
                agreed[key] = try check(key, answer: value, offered: ours)
                return nil
            }
            // A special value for a key we never offered answers nothing.
            if TextValue.special(value) != nil { return nil }
            let answer = respond(key, to: value)
            agreed[key] = TextValue.special(answer) == nil ? answer : key.defaultValue
            return TextKeyValue(key.rawValue, answer)
        }
    }

    private mutating func declare(_ key: OperationalKey, _ value: String) throws(ISCSIError) {
        switch key {
        case .maxRecvDataSegmentLength:
            // Declarative per direction (§13.12): the target's value bounds what we send.
            guard let length = TextValue.number(value), OperationalKey.segmentRange.contains(length) else {
                throw failure(
                    "target \(target) declared MaxRecvDataSegmentLength=\(value), outside \(OperationalKey.segmentRange)"
                )
            }
            targetMaxRecvDataSegmentLength = Int(length)
        case .targetAlias:
            targetAlias = value
        case .targetPortalGroupTag:
            guard let tag = TextValue.number(value), tag <= UInt64(UInt16.max) else {
                throw failure("target \(target) declared TargetPortalGroupTag=\(value), outside 0...65535")
            }
            targetPortalGroupTag = UInt16(tag)
        case .targetName, .targetAddress, .sendTargets, .initiatorName, .initiatorAlias, .sessionType:
            // Ours to declare, or meaningful only in redirects and SendTargets; an
            // echo from the target changes nothing.
            break
        case .headerDigest, .dataDigest, .maxConnections, .initialR2T, .immediateData, .maxBurstLength,
            .firstBurstLength, .defaultTime2Wait, .defaultTime2Retain, .maxOutstandingR2T, .dataPDUInOrder,
            .dataSequenceInOrder, .errorRecoveryLevel, .authMethod, .taskReporter, .protocolLevel, .ofMarker,
            .ifMarker, .ofMarkInt, .ifMarkInt:
            preconditionFailure("\(key.rawValue) is not a declarative key")
        }
    }

    /// Validates the target's answer to our offer; returns the agreed value.
    func check(_ key: OperationalKey, answer: String, offered ours: String) throws(ISCSIError) -> String {
        if TextValue.special(answer) != nil {
            // Reject, NotUnderstood or Irrelevant leave the key at its default (§6.2).
            guard let fallback = key.defaultValue else {
                throw failure("target \(target) answered \(key.rawValue)=\(answer)")
            }
            return fallback
        }
        switch key.rule {
        case .numerical(let range, let function):
            guard let value = TextValue.number(answer), range.contains(value) else {
                throw failure("target \(target) answered \(key.rawValue)=\(answer), not a number in \(range)")
            }
            guard let offeredValue = TextValue.number(ours), function.admits(answer: value, offered: offeredValue) else {
                throw failure(
                    "target \(target) answered \(key.rawValue)=\(answer) to our \(ours), but the result is the "
                        + "\(function) of both values"
                )
            }
            return String(value)
        case .boolean(let function):
            guard let value = TextValue.boolean(answer) else {
                throw failure("target \(target) answered \(key.rawValue)=\(answer), neither Yes nor No")
            }
            guard let offeredValue = TextValue.boolean(ours), function.admits(answer: value, offered: offeredValue) else {
                throw failure(
                    "target \(target) answered \(key.rawValue)=\(answer) to our \(ours), but the result is the "
                        + "\(function == .or ? "OR" : "AND") of both values"
                )
            }
            return answer
        case .list:
            guard let choices = TextValue.list(ours), choices.contains(answer) else {
                throw failure("target \(target) answered \(key.rawValue)=\(answer), which is not among our offer \(ours)")
            }
            return answer
        case .declarative, .security, .obsolete:
            preconditionFailure("\(key.rawValue) is never offered for an answer")
        }
    }

    func ourNumber(for key: OperationalKey) -> UInt64 {
        switch key {
        case .maxConnections: UInt64(proposal.maxConnections)
        case .maxBurstLength: UInt64(proposal.maxBurstLength)
        case .firstBurstLength: UInt64(proposal.firstBurstLength)
        case .defaultTime2Wait: UInt64(proposal.defaultTime2Wait)
        case .defaultTime2Retain: UInt64(proposal.defaultTime2Retain)
        case .maxOutstandingR2T: UInt64(proposal.maxOutstandingR2T)
        case .errorRecoveryLevel: UInt64(proposal.errorRecoveryLevel)
        case .protocolLevel:
            proposal.protocolLevel.map { UInt64($0) } ?? OperationalKey.implementedProtocolLevel
        case .headerDigest, .dataDigest, .sendTargets, .targetName, .initiatorName, .targetAlias, .initiatorAlias,
            .targetAddress, .targetPortalGroupTag, .initialR2T, .immediateData, .maxRecvDataSegmentLength,
            .dataPDUInOrder, .dataSequenceInOrder, .sessionType, .authMethod, .taskReporter, .ofMarker, .ifMarker,
            .ofMarkInt, .ifMarkInt:
            preconditionFailure("\(key.rawValue) is not a numerical key")
        }
    }

    func ourBoolean(for key: OperationalKey) -> Bool {
        switch key {
        case .initialR2T: proposal.initialR2T
        case .immediateData: proposal.immediateData
        case .dataPDUInOrder: proposal.dataPDUInOrder
        case .dataSequenceInOrder: proposal.dataSequenceInOrder
        case .headerDigest, .dataDigest, .maxConnections, .sendTargets, .targetName, .initiatorName, .targetAlias,
            .initiatorAlias, .targetAddress, .targetPortalGroupTag, .maxRecvDataSegmentLength, .maxBurstLength,
            .firstBurstLength, .defaultTime2Wait, .defaultTime2Retain, .maxOutstandingR2T, .errorRecoveryLevel,
            .sessionType, .authMethod, .taskReporter, .protocolLevel, .ofMarker, .ifMarker, .ofMarkInt, .ifMarkInt:
            preconditionFailure("\(key.rawValue) is not a boolean key")
        }
    }

    func acceptable(for key: OperationalKey) -> [String] {
        switch key {
        case .headerDigest: proposal.headerDigests.map(\.rawValue)
        case .dataDigest: proposal.dataDigests.map(\.rawValue)
        case .taskReporter: [OperationalKey.taskReporterRFC3720]
        case .maxConnections, .sendTargets, .targetName, .initiatorName, .targetAlias, .initiatorAlias,
            .targetAddress, .targetPortalGroupTag, .initialR2T, .immediateData, .maxRecvDataSegmentLength,
            .maxBurstLength, .firstBurstLength, .defaultTime2Wait, .defaultTime2Retain, .maxOutstandingR2T,
            .dataPDUInOrder, .dataSequenceInOrder, .errorRecoveryLevel, .sessionType, .authMethod, .protocolLevel,
            .ofMarker, .ifMarker, .ofMarkInt, .ifMarkInt:
            preconditionFailure("\(key.rawValue) is not a list key")
        }
    }

    /// The parameters once the target has moved to full feature phase.
    func result() throws(ISCSIError) -> NegotiatedParameters {
        var parameters = NegotiatedParameters()
        parameters.headerDigest = try digest(.headerDigest, acceptable: proposal.headerDigests)
        parameters.dataDigest = try digest(.dataDigest, acceptable: proposal.dataDigests)
        parameters.maxRecvDataSegmentLength = proposal.maxRecvDataSegmentLength
        parameters.targetMaxRecvDataSegmentLength = targetMaxRecvDataSegmentLength ?? 8192
        parameters.maxBurstLength = number(.maxBurstLength)
        parameters.firstBurstLength = number(.firstBurstLength)
        parameters.immediateData = boolean(.immediateData)
        parameters.initialR2T = boolean(.initialR2T)
        parameters.maxOutstandingR2T = number(.maxOutstandingR2T)
        parameters.maxConnections = number(.maxConnections)
        parameters.defaultTime2Wait = number(.defaultTime2Wait)
        parameters.defaultTime2Retain = number(.defaultTime2Retain)
        parameters.dataPDUInOrder = boolean(.dataPDUInOrder)
        parameters.dataSequenceInOrder = boolean(.dataSequenceInOrder)
        parameters.errorRecoveryLevel = number(.errorRecoveryLevel)
        parameters.protocolLevel = number(.protocolLevel)
        parameters.targetAlias = targetAlias
        parameters.targetPortalGroupTag = targetPortalGroupTag
        if !parameters.firstBurstLengthIsIrrelevant, parameters.firstBurstLength > parameters.maxBurstLength {
            throw failure(
                "target \(target) agreed to FirstBurstLength=\(parameters.firstBurstLength) but "
                    + "MaxBurstLength=\(parameters.maxBurstLength); the first burst must not be longer"
            )
        }
        return parameters
    }

    /// The agreed text for `key`. An offer the target never answered counts as
    /// answered by a target with RFC defaults: the result function of both.
    private func value(_ key: OperationalKey) -> String? {
        if let value = agreed[key] { return value }
        guard let fallback = key.defaultValue else { return nil }
        guard let ours = offered[key] else { return fallback }
        switch key.rule {
        case .numerical(_, let function):
            guard let a = TextValue.number(ours), let b = TextValue.number(fallback) else { return fallback }
            return String(function.combine(a, b))
        case .boolean(let function):
            guard let a = TextValue.boolean(ours), let b = TextValue.boolean(fallback) else { return fallback }
            return TextValue.boolean(function.combine(a, b))
        case .list, .declarative, .security, .obsolete:
            return fallback
        }
    }

    private func number(_ key: OperationalKey) -> Int {
        // Every stored value passed a range check of at most 2^24, so it fits.
        value(key).flatMap(TextValue.number).map { Int($0) } ?? 0
    }

    private func boolean(_ key: OperationalKey) -> Bool {
        value(key).flatMap(TextValue.boolean) ?? true
    }

    private func digest(_ key: OperationalKey, acceptable: [NegotiatedDigest]) throws(ISCSIError) -> NegotiatedDigest {
        guard let text = value(key), let digest = NegotiatedDigest(rawValue: text), acceptable.contains(digest) else {
            throw failure(
                "target \(target) did not agree to any \(key.rawValue) we accept "
                    + "(\(acceptable.map(\.rawValue).joined(separator: ","))); "
                    + "change the digest setting on one side"
            )
        }
        return digest
    }

    private func failure(_ message: String) -> ISCSIError {
        ISCSIError(.negotiationFailed, scope: .session, message)
    }
}
