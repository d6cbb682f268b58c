// Operational negotiation (RFC 7143 §6.2, §13): every key's result function, table
// driven, plus answers to target offers and the final parameters.

import NIOCore
import Testing

@testable import ISCSI

@Suite struct OperationalNegotiationTests {
    private func negotiation(
        _ proposal: OperationalProposal = OperationalProposal(),
        _ type: SessionType = .normal
    ) -> OperationalNegotiation {
        var negotiation = OperationalNegotiation(proposal: proposal, sessionType: type, target: "iqn.t")
        _ = negotiation.offers()
        return negotiation
    }

    // MARK: Result functions

    struct Case: Sendable, CustomTestStringConvertible {
        var key: OperationalKey
        var offered: String
        var answer: String
        /// nil when the answer must be refused.
        var agreed: String?
        var testDescription: String { "\(key.rawValue): offered \(offered), answered \(answer)" }
    }

    static let answerCases: [Case] = [
        // Minimum: the answer may be lower, never higher.
        Case(key: .maxBurstLength, offered: "1048576", answer: "262144", agreed: "262144"),
        Case(key: .maxBurstLength, offered: "1048576", answer: "1048576", agreed: "1048576"),
        Case(key: .maxBurstLength, offered: "1048576", answer: "2097152", agreed: nil),
        Case(key: .maxBurstLength, offered: "1048576", answer: "511", agreed: nil),
        Case(key: .maxBurstLength, offered: "1048576", answer: "0x40000", agreed: "262144"),
        Case(key: .firstBurstLength, offered: "262144", answer: "65536", agreed: "65536"),
        Case(key: .firstBurstLength, offered: "262144", answer: "16777216", agreed: nil),
        Case(key: .firstBurstLength, offered: "262144", answer: "Irrelevant", agreed: "65536"),
        Case(key: .maxConnections, offered: "1", answer: "1", agreed: "1"),
        Case(key: .maxConnections, offered: "1", answer: "4", agreed: nil),
        Case(key: .maxConnections, offered: "4", answer: "0", agreed: nil),
        Case(key: .defaultTime2Retain, offered: "20", answer: "0", agreed: "0"),
        Case(key: .defaultTime2Retain, offered: "0", answer: "60", agreed: nil),
        Case(key: .maxOutstandingR2T, offered: "4", answer: "1", agreed: "1"),
        Case(key: .maxOutstandingR2T, offered: "1", answer: "16", agreed: nil),
        Case(key: .errorRecoveryLevel, offered: "2", answer: "0", agreed: "0"),
        Case(key: .errorRecoveryLevel, offered: "0", answer: "1", agreed: nil),
        Case(key: .errorRecoveryLevel, offered: "2", answer: "3", agreed: nil),
        Case(key: .protocolLevel, offered: "2", answer: "1", agreed: "1"),
        Case(key: .protocolLevel, offered: "1", answer: "2", agreed: nil),
        Case(key: .protocolLevel, offered: "1", answer: "NotUnderstood", agreed: "0"),
        // Maximum: the answer may be higher, never lower.
        Case(key: .defaultTime2Wait, offered: "2", answer: "5", agreed: "5"),
        Case(key: .defaultTime2Wait, offered: "2", answer: "1", agreed: nil),
        Case(key: .defaultTime2Wait, offered: "2", answer: "3601", agreed: nil),
        // OR: our Yes stays Yes; our No may become Yes.
        Case(key: .initialR2T, offered: "No", answer: "Yes", agreed: "Yes"),
        Case(key: .initialR2T, offered: "No", answer: "No", agreed: "No"),
        Case(key: .initialR2T, offered: "Yes", answer: "No", agreed: nil),
        Case(key: .dataPDUInOrder, offered: "Yes", answer: "No", agreed: nil),
        Case(key: .dataSequenceInOrder, offered: "No", answer: "Yes", agreed: "Yes"),
        Case(key: .initialR2T, offered: "No", answer: "yes", agreed: nil),
        // AND: our No stays No; our Yes may become No.
        Case(key: .immediateData, offered: "Yes", answer: "No", agreed: "No"),
        Case(key: .immediateData, offered: "No", answer: "Yes", agreed: nil),
        Case(key: .immediateData, offered: "Yes", answer: "Reject", agreed: "Yes"),
        // Lists: the answer must be one we offered.
        Case(key: .headerDigest, offered: "CRC32C,None", answer: "CRC32C", agreed: "CRC32C"),
        Case(key: .headerDigest, offered: "CRC32C,None", answer: "None", agreed: "None"),
        Case(key: .dataDigest, offered: "None", answer: "CRC32C", agreed: nil),
        Case(key: .dataDigest, offered: "None", answer: "CRC32C,None", agreed: nil),
    ]

    @Test(arguments: answerCases)
    func answersAreCheckedAgainstTheResultFunction(_ c: Case) throws {
        let negotiation = negotiation()
        if let agreed = c.agreed {
            #expect(try negotiation.check(c.key, answer: c.answer, offered: c.offered) == agreed)
        } else {
            let error = #expect(throws: ISCSIError.self) {
                try negotiation.check(c.key, answer: c.answer, offered: c.offered)
            }
            #expect(error?.code == .negotiationFailed)
            #expect(error?.scope == .session)
            #expect(error?.message.contains(c.key.rawValue) == true)
            #expect(error?.message.contains(c.answer) == true)
            #expect(error?.message.contains("iqn.t") == true)
        }
    }

    static let offerCases: [(OperationalKey, String, String)] = [
        (.maxBurstLength, "4194304", "1048576"),
        (.maxBurstLength, "65536", "65536"),
        (.maxBurstLength, "100", "Reject"),
        (.firstBurstLength, "65536", "65536"),
        (.maxOutstandingR2T, "16", "1"),
        (.maxConnections, "8", "1"),
        (.defaultTime2Wait, "10", "10"),
        (.defaultTime2Wait, "0", "2"),
        (.defaultTime2Retain, "60", "0"),
        (.errorRecoveryLevel, "2", "0"),
        (.protocolLevel, "2", "1"),
        (.protocolLevel, "0", "0"),
        (.initialR2T, "Yes", "Yes"),
        (.initialR2T, "No", "No"),
        (.immediateData, "No", "No"),
        (.immediateData, "Yes", "Yes"),
        (.dataPDUInOrder, "No", "Yes"),
        (.immediateData, "maybe", "Reject"),
        (.headerDigest, "CRC32C,None", "None"),
        (.headerDigest, "CRC32C", "Reject"),
        (.taskReporter, "ResponseFence,RFC3720", "RFC3720"),
        (.taskReporter, "FastAbort", "Reject"),
    ]

    @Test(arguments: offerCases)
    func targetOffersGetOurResultFunctionAnswer(key: OperationalKey, offer: String, answer: String) {
        #expect(negotiation().respond(key, to: offer) == answer)
    }

    @Test func resultFunctionsCombine() {
        #expect(OperationalKey.NumericalFunction.minimum.combine(3, 5) == 3)
        #expect(OperationalKey.NumericalFunction.maximum.combine(3, 5) == 5)
        #expect(OperationalKey.BooleanFunction.or.combine(false, true))
        #expect(!OperationalKey.BooleanFunction.and.combine(false, true))
        #expect(OperationalKey.allCases.count == 29)
    }

    // MARK: Whole negotiations

    @Test func offersForNormalAndDiscoverySessions() {
        var normal = OperationalNegotiation(proposal: OperationalProposal(), sessionType: .normal, target: "t")
        #expect(ByteBufferCompare.text(normal.offers()) == Fixture.operationalOffers)
        var discovery = OperationalNegotiation(proposal: OperationalProposal(), sessionType: .discovery, target: "t")
        #expect(discovery.offers().map(\.key) == ["HeaderDigest", "DataDigest", "MaxRecvDataSegmentLength"])
        var proposal = OperationalProposal()
        proposal.protocolLevel = 1
        proposal.headerDigests = [.crc32c, .none]
        var withLevel = OperationalNegotiation(proposal: proposal, sessionType: .normal, target: "t")
        let offers = withLevel.offers()
        #expect(offers.first == TextKeyValue("HeaderDigest", "CRC32C,None"))
        #expect(offers.last == TextKeyValue("iSCSIProtocolLevel", "1"))
    }

    @Test func tgtLikeAnswersNegotiate() throws {
        var negotiation = negotiation()
        #expect(try negotiation.receive(pairs(of: Fixture.operationalAnswers)) == [])
        #expect(try negotiation.result() == Fixture.negotiated)
    }

    @Test func unansweredOffersAssumeATargetWithRFCDefaults() throws {
        var negotiation = negotiation()
        _ = try negotiation.receive([])
        let result = try negotiation.result()
        #expect(result.maxBurstLength == 262_144)  // min(1 MiB, 256 KiB default)
        #expect(result.firstBurstLength == 65536)
        #expect(result.initialR2T)  // No OR default Yes
        #expect(result.immediateData)
        #expect(result.defaultTime2Retain == 0)
        #expect(result.targetMaxRecvDataSegmentLength == 8192)
        #expect(result.headerDigest == .none)
    }

    @Test func declarationsAndExtensionKeys() throws {
        var negotiation = negotiation()
        let answers = try negotiation.receive([
            TextKeyValue("TargetAlias", "Data Disk1"),
            TextKeyValue("TargetPortalGroupTag", "1"),
            TextKeyValue("MaxRecvDataSegmentLength", "262144"),
            TextKeyValue("X-com.example.Feature", "On"),
            TextKeyValue("X#org.example.other", "1"),
            TextKeyValue("FutureKey", "Yes"),
            TextKeyValue("X-answer", "NotUnderstood"),
            TextKeyValue("IFMarker", "No"),
            TextKeyValue("OFMarkInt", "2048~8192"),
            TextKeyValue("OFMarker", "Reject"),
        ])
        #expect(
            answers == [
                TextKeyValue("X-com.example.Feature", "NotUnderstood"),
                TextKeyValue("X#org.example.other", "NotUnderstood"),
                TextKeyValue("FutureKey", "NotUnderstood"),
                TextKeyValue("IFMarker", "Reject"),
                TextKeyValue("OFMarkInt", "Reject"),
            ]
        )
        let result = try negotiation.result()
        #expect(result.targetAlias == "Data Disk1")
        #expect(result.targetPortalGroupTag == 1)
        #expect(result.targetMaxRecvDataSegmentLength == 262_144)
    }

    @Test(arguments: [
        ("MaxRecvDataSegmentLength", "511"),
        ("MaxRecvDataSegmentLength", "16777216"),
        ("TargetPortalGroupTag", "65536"),
        ("AuthMethod", "CHAP"),
    ])
    func badDeclarationsFail(key: String, value: String) {
        var negotiation = negotiation()
        let error = #expect(throws: ISCSIError.self) { try negotiation.receive([TextKeyValue(key, value)]) }
        #expect(error?.code == .negotiationFailed)
        #expect(error?.message.contains("\(key)=\(value)") == true)
    }

    @Test func aKeyNegotiatedTwiceFails() throws {
        var negotiation = negotiation()
        _ = try negotiation.receive([TextKeyValue("MaxBurstLength", "65536")])
        let error = #expect(throws: ISCSIError.self) {
            try negotiation.receive([TextKeyValue("MaxBurstLength", "65536")])
        }
        #expect(error?.message.contains("sent MaxBurstLength twice") == true)
    }

    @Test func declarationsMayBeRepeatedAndTheLastWins() throws {
        var negotiation = negotiation()
        _ = try negotiation.receive([TextKeyValue("TargetAlias", "old"), TextKeyValue("MaxRecvDataSegmentLength", "8192")])
        _ = try negotiation.receive([TextKeyValue("TargetAlias", "new"), TextKeyValue("MaxRecvDataSegmentLength", "65536")])
        let result = try negotiation.result()
        #expect(result.targetAlias == "new")
        #expect(result.targetMaxRecvDataSegmentLength == 65536)
    }

    @Test func firstBurstMustNotExceedMaxBurstUnlessIrrelevant() throws {
        var negotiation = negotiation()
        _ = try negotiation.receive(pairs(of: text("MaxBurstLength=65536", "FirstBurstLength=262144")))
        let error = #expect(throws: ISCSIError.self) { try negotiation.result() }
        #expect(error?.message.contains("FirstBurstLength=262144 but MaxBurstLength=65536") == true)

        var proposal = OperationalProposal()
        proposal.initialR2T = true
        proposal.immediateData = false
        var irrelevant = self.negotiation(proposal)
        _ = try irrelevant.receive(pairs(of: text("MaxBurstLength=512", "FirstBurstLength=Irrelevant")))
        let result = try irrelevant.result()
        #expect(result.firstBurstLengthIsIrrelevant)
        #expect(result.maxBurstLength == 512)
    }

    @Test func requiredDigestThatTheTargetRejectsFails() throws {
        var proposal = OperationalProposal()
        proposal.dataDigests = [.crc32c]
        var negotiation = negotiation(proposal)
        _ = try negotiation.receive([TextKeyValue("DataDigest", "Reject")])
        let error = #expect(throws: ISCSIError.self) { try negotiation.result() }
        #expect(error?.message.contains("did not agree to any DataDigest we accept (CRC32C)") == true)
    }

    @Test func targetOffersAreAnsweredAndAgreed() throws {
        var negotiation = negotiation(OperationalProposal(), .normal)
        let answers = try negotiation.receive(pairs(of: text("TaskReporter=RFC3720", "iSCSIProtocolLevel=2")))
        #expect(answers == [TextKeyValue("TaskReporter", "RFC3720"), TextKeyValue("iSCSIProtocolLevel", "1")])
        #expect(try negotiation.result().protocolLevel == 1)
    }

    @Test func proposalValidation() {
        var proposal = OperationalProposal()
        #expect(proposal.validationError() == nil)
        proposal.firstBurstLength = 2 * 1024 * 1024
        #expect(proposal.validationError() == "FirstBurstLength=2097152 exceeds MaxBurstLength=1048576")
        proposal = OperationalProposal()
        proposal.maxRecvDataSegmentLength = 1 << 24
        #expect(proposal.validationError()?.contains("MaxRecvDataSegmentLength=16777216") == true)
        proposal = OperationalProposal()
        proposal.headerDigests = []
        #expect(proposal.validationError() != nil)
    }
}

/// Renders pairs the way the wire does, for comparing with `text(...)` fixtures.
enum ByteBufferCompare {
    static func text(_ pairs: [TextKeyValue]) -> ByteBuffer { ByteBuffer(textKeyValues: pairs) }
}
