// The Login Response that takes a test's connection into the full feature phase.

import NIOCore

@testable import ISCSI

extension Fixture {
    /// The StatSN of `loginToFullFeature`; the target's next status has this plus one.
    static let fullFeatureLoginStatSN: UInt32 = 11

    /// The final operational Login Response (TSIH 5), answering with `data` and leaving a
    /// CmdSN window `window` commands wide (0 closes it).
    static func loginToFullFeature(window: UInt32, data: ByteBuffer = operationalAnswers) -> LoginResponse {
        LoginResponse(
            transit: true,
            currentStage: .operationalNegotiation,
            nextStage: .fullFeaturePhase,
            isid: isid,
            tsih: 5,
            initiatorTaskTag: itt,
            statSN: fullFeatureLoginStatSN,
            expCmdSN: cmdSN,
            maxCmdSN: cmdSN &+ window &- 1,
            data: data
        )
    }
}
