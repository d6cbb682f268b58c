// The initiator engines the integration tests run on; each opens a LUN URL as a BlockDevice.

import BlockDevice
import ISCSI

/// An initiator implementation under test. Tests take it as an argument so the
/// same body runs on every engine.
enum InitiatorEngine: String, CaseIterable, Sendable, CustomStringConvertible {
    case native

    var description: String { rawValue }

    /// Opens `url` (libiscsi form, CHAP included) with `proposal` as our offer.
    func open(_ url: String, proposal: OperationalProposal = OperationalProposal()) async throws -> any BlockDevice {
        switch self {
        case .native:
            let parsed = try ISCSIURL(parsing: url)
            var configuration = ISCSISessionConfiguration(
                portal: parsed.portal,
                targetName: parsed.targetName,
                authentication: parsed.authentication,
                proposal: proposal
            )
            configuration.loginTimeout = .seconds(10)
            return try await ISCSILUN.connect(parsed, configuration: configuration)
        }
    }
}
