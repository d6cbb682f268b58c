// Login Requests as an initiator would send them, for driving the target login responder.

import ISCSI
import NIOCore

enum LoginRequests {
    static let isid: UInt64 = 0x80_1234_5678_00
    static let target = "iqn.2025-01.io.vdiskd:test"
    static let initiator = "iqn.2025-01.io.vdiskd:client"

    static func request(
        _ stage: LoginStage, to next: LoginStage, transit: Bool = true, _ pairs: [(String, String)], cmdSN: UInt32 = 10
    ) -> LoginRequest {
        LoginRequest(
            transit: transit, currentStage: stage, nextStage: next, isid: isid, tsih: 0, initiatorTaskTag: 1,
            connectionID: 0, cmdSN: cmdSN, expStatSN: 0,
            data: ByteBuffer(textKeyValues: pairs.map { TextKeyValue($0.0, $0.1) })
        )
    }

    static func keys(_ response: LoginResponse) -> [String: String] {
        var data = response.data
        let pairs = (try? data.readTextKeyValues(limits: .login)) ?? []
        return Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    static func status(_ response: LoginResponse) -> LoginStatus {
        LoginStatus(statusClass: response.statusClass, statusDetail: response.statusDetail)
    }
}
