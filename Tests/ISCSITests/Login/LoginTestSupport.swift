// Test-side helpers for login and text tests: text buffers, a deterministic random
// generator, and builders for the PDUs a target would send.

import NIOCore

@testable import ISCSI

/// Text from `"Key=Value"` strings, each NUL-terminated as on the wire.
func text(_ entries: String...) -> ByteBuffer {
    text(entries)
}

func text(_ entries: [String]) -> ByteBuffer {
    var buffer = ByteBuffer()
    for entry in entries {
        buffer.writeString(entry)
        buffer.writeInteger(UInt8(0))
    }
    return buffer
}

/// Counts up from `next`: byte-sized draws come out as 0, 1, 2, ...
struct CountingGenerator: RandomNumberGenerator, Sendable {
    var counter: UInt64 = 0
    mutating func next() -> UInt64 {
        defer { counter &+= 1 }
        return counter
    }
}

/// The pairs of a request's data segment.
func pairs(of buffer: ByteBuffer) -> [TextKeyValue] {
    var copy = buffer
    return (try? copy.readTextKeyValues(limits: .login)) ?? []
}

enum Fixture {
    static let initiator = "iqn.2026-11.test:initiator"
    static let target = "iqn.2026-11.test:target"
    static let isid: UInt64 = 0x80_0000_1234_56
    static let itt: UInt32 = 7
    static let cmdSN: UInt32 = 0x100
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func configuration(
        target: String? = Fixture.target,
        authentication: LoginAuthentication = .none,
        proposal: OperationalProposal = OperationalProposal(),
        tsih: UInt16 = 0,
        maximumSegmentLength: Int = 8192
    ) -> LoginConfiguration {
        LoginConfiguration(
            initiatorName: initiator,
            targetName: target,
            isid: isid,
            tsih: tsih,
            connectionID: 1,
            initialCmdSN: cmdSN,
            initiatorTaskTag: itt,
            authentication: authentication,
            proposal: proposal,
            maximumSegmentLength: maximumSegmentLength
        )
    }

    /// The Login Request the state machine should send.
    static func request(
        _ stage: LoginStage,
        transit: Bool,
        next: LoginStage = .securityNegotiation,
        continue: Bool = false,
        expStatSN: UInt32,
        tsih: UInt16 = 0,
        _ data: ByteBuffer
    ) -> LoginRequest {
        LoginRequest(
            transit: transit,
            continue: `continue`,
            currentStage: stage,
            nextStage: transit ? next : .securityNegotiation,
            isid: isid,
            tsih: tsih,
            initiatorTaskTag: itt,
            connectionID: 1,
            cmdSN: cmdSN,
            expStatSN: expStatSN,
            data: data
        )
    }

    /// A Login Response as a target would send it.
    static func response(
        _ stage: LoginStage,
        transit: Bool,
        next: LoginStage = .securityNegotiation,
        continue: Bool = false,
        statSN: UInt32,
        tsih: UInt16 = 0,
        statusClass: UInt8 = 0,
        statusDetail: UInt8 = 0,
        _ data: ByteBuffer = ByteBuffer()
    ) -> LoginResponse {
        LoginResponse(
            transit: transit,
            continue: `continue`,
            currentStage: stage,
            nextStage: transit ? next : .securityNegotiation,
            isid: isid,
            tsih: tsih,
            initiatorTaskTag: itt,
            statSN: statSN,
            expCmdSN: cmdSN,
            maxCmdSN: cmdSN + 31,
            statusClass: statusClass,
            statusDetail: statusDetail,
            data: data
        )
    }

    static let securityKeysNone = text(
        "InitiatorName=\(initiator)",
        "SessionType=Normal",
        "TargetName=\(target)",
        "AuthMethod=None"
    )

    /// Our default operational offers, in the order they go out.
    static let operationalOffers = text(
        "HeaderDigest=None",
        "DataDigest=None",
        "MaxRecvDataSegmentLength=262144",
        "InitialR2T=No",
        "ImmediateData=Yes",
        "MaxBurstLength=1048576",
        "FirstBurstLength=262144",
        "MaxOutstandingR2T=1",
        "MaxConnections=1",
        "DefaultTime2Wait=2",
        "DefaultTime2Retain=0",
        "DataPDUInOrder=Yes",
        "DataSequenceInOrder=Yes",
        "ErrorRecoveryLevel=0"
    )

    /// A tgt-like answer that accepts every offer and declares its own segment size.
    static let operationalAnswers = text(
        "HeaderDigest=None",
        "DataDigest=None",
        "MaxRecvDataSegmentLength=65536",
        "InitialR2T=No",
        "ImmediateData=Yes",
        "MaxBurstLength=262144",
        "FirstBurstLength=65536",
        "MaxOutstandingR2T=1",
        "MaxConnections=1",
        "DefaultTime2Wait=2",
        "DefaultTime2Retain=0",
        "DataPDUInOrder=Yes",
        "DataSequenceInOrder=Yes",
        "ErrorRecoveryLevel=0"
    )

    /// What `operationalAnswers` negotiate to.
    static let negotiated = NegotiatedParameters(
        maxRecvDataSegmentLength: 262_144,
        targetMaxRecvDataSegmentLength: 65536,
        maxBurstLength: 262_144,
        firstBurstLength: 65536,
        immediateData: true,
        initialR2T: false,
        defaultTime2Retain: 0
    )
}
