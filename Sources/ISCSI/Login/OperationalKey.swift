// Every login key of RFC 7143 §13 (and iSCSIProtocolLevel, RFC 7144 §2.1) with its
// kind, range, default and result function.

/// A key negotiated or declared during login.
enum OperationalKey: String, CaseIterable, Sendable {
    case headerDigest = "HeaderDigest"
    case dataDigest = "DataDigest"
    case maxConnections = "MaxConnections"
    case sendTargets = "SendTargets"
    case targetName = "TargetName"
    case initiatorName = "InitiatorName"
    case targetAlias = "TargetAlias"
    case initiatorAlias = "InitiatorAlias"
    case targetAddress = "TargetAddress"
    case targetPortalGroupTag = "TargetPortalGroupTag"
    case initialR2T = "InitialR2T"
    case immediateData = "ImmediateData"
    case maxRecvDataSegmentLength = "MaxRecvDataSegmentLength"
    case maxBurstLength = "MaxBurstLength"
    case firstBurstLength = "FirstBurstLength"
    case defaultTime2Wait = "DefaultTime2Wait"
    case defaultTime2Retain = "DefaultTime2Retain"
    case maxOutstandingR2T = "MaxOutstandingR2T"
    case dataPDUInOrder = "DataPDUInOrder"
    case dataSequenceInOrder = "DataSequenceInOrder"
    case errorRecoveryLevel = "ErrorRecoveryLevel"
    case sessionType = "SessionType"
    case authMethod = "AuthMethod"
    case taskReporter = "TaskReporter"
    case protocolLevel = "iSCSIProtocolLevel"
    // Removed by RFC 7143 (§13, "Obsoleted Keys") but still sent by RFC 3720 peers.
    case ofMarker = "OFMarker"
    case ifMarker = "IFMarker"
    case ofMarkInt = "OFMarkInt"
    case ifMarkInt = "IFMarkInt"

    /// MaxRecvDataSegmentLength, MaxBurstLength and FirstBurstLength: 512 to 2^24−1.
    static let segmentRange: ClosedRange<UInt64> = 512...16_777_215
    /// The iSCSIProtocolLevel this implementation speaks: 1 is RFC 7143 (RFC 7144 §2.1).
    static let implementedProtocolLevel: UInt64 = 1
    /// The one TaskReporter semantics we implement (RFC 7143 §13.23).
    static let taskReporterRFC3720 = "RFC3720"

    /// How the two sides' values combine (RFC 7143 §6.2).
    enum Rule: Sendable, Equatable {
        /// Each side states its own value; nothing is answered.
        case declarative
        /// A number in `range`; the result is the minimum or maximum of both offers.
        case numerical(ClosedRange<UInt64>, NumericalFunction)
        /// Yes/No combined with OR or AND.
        case boolean(BooleanFunction)
        /// The responder picks the first value of the offered list it supports.
        case list
        /// Handled by the security stage, never by operational negotiation.
        case security
        /// Removed keys: answered `Reject` (RFC 7143 §13, "Obsoleted Keys").
        case obsolete
    }

    enum NumericalFunction: Sendable, Equatable {
        case minimum, maximum

        func combine(_ a: UInt64, _ b: UInt64) -> UInt64 {
            switch self {
            case .minimum: Swift.min(a, b)
            case .maximum: Swift.max(a, b)
            }
        }

        /// Whether `answer` can be the result when we offered `offered`.
        func admits(answer: UInt64, offered: UInt64) -> Bool {
            switch self {
            case .minimum: answer <= offered
            case .maximum: answer >= offered
            }
        }
    }

    enum BooleanFunction: Sendable, Equatable {
        case or, and

        func combine(_ a: Bool, _ b: Bool) -> Bool {
            switch self {
            case .or: a || b
            case .and: a && b
            }
        }

        /// OR cannot turn our Yes into No; AND cannot turn our No into Yes.
        func admits(answer: Bool, offered: Bool) -> Bool {
            combine(answer, offered) == answer
        }
    }

    var rule: Rule {
        switch self {
        case .headerDigest, .dataDigest, .taskReporter: .list
        case .maxConnections: .numerical(1...65535, .minimum)
        case .sendTargets, .targetName, .initiatorName, .targetAlias, .initiatorAlias, .targetAddress,
            .targetPortalGroupTag, .maxRecvDataSegmentLength, .sessionType:
            .declarative
        case .initialR2T, .dataPDUInOrder, .dataSequenceInOrder: .boolean(.or)
        case .immediateData: .boolean(.and)
        case .maxBurstLength, .firstBurstLength: .numerical(Self.segmentRange, .minimum)
        case .defaultTime2Wait: .numerical(0...3600, .maximum)
        case .defaultTime2Retain: .numerical(0...3600, .minimum)
        case .maxOutstandingR2T: .numerical(1...65535, .minimum)
        case .errorRecoveryLevel: .numerical(0...2, .minimum)
        case .protocolLevel: .numerical(0...31, .minimum)
        case .authMethod: .security
        case .ofMarker, .ifMarker, .ofMarkInt, .ifMarkInt: .obsolete
        }
    }

    /// The RFC default, used when a key is rejected, not understood or never answered.
    var defaultValue: String? {
        switch self {
        case .headerDigest, .dataDigest: NegotiatedDigest.none.rawValue
        case .maxConnections, .maxOutstandingR2T: "1"
        case .initialR2T, .immediateData, .dataPDUInOrder, .dataSequenceInOrder: "Yes"
        case .maxRecvDataSegmentLength: "8192"
        case .maxBurstLength: "262144"
        case .firstBurstLength: "65536"
        case .defaultTime2Wait: "2"
        case .defaultTime2Retain: "20"
        case .errorRecoveryLevel, .protocolLevel: "0"
        case .taskReporter: Self.taskReporterRFC3720
        case .sessionType: SessionType.normal.rawValue
        case .authMethod: "None"
        case .sendTargets, .targetName, .initiatorName, .targetAlias, .initiatorAlias, .targetAddress,
            .targetPortalGroupTag, .ofMarker, .ifMarker, .ofMarkInt, .ifMarkInt:
            nil
        }
    }
}
