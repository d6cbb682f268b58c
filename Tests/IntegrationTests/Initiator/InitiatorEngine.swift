// The initiator engines the integration tests run on; each opens a LUN URL as a BlockDevice,
// so one test body, taking the engine as an argument, covers both.

import BlockDevice
import ISCSI
import ISCSIAddress
import LibISCSI

/// An initiator implementation under test.
enum InitiatorEngine: String, CaseIterable, Sendable, CustomStringConvertible {
    case native
    case libiscsi

    var description: String { rawValue }

    /// libiscsi 1.19 has no DataDigest support; it offers HeaderDigest only.
    var supportsDataDigest: Bool { self == .native }

    /// Opens `url` (libiscsi form, CHAP included) with `offer` as our login offer.
    func open(_ url: String, offer: InitiatorOffer = InitiatorOffer()) async throws -> any BlockDevice {
        switch self {
        case .native:
            var parsed = try ISCSITargetURL(parsing: url)
            parsed.chapAlgorithms = offer.chapAlgorithms.map { $0.map(\.name) } ?? parsed.chapAlgorithms
            var configuration = ISCSISessionConfiguration(
                portal: parsed.portal,
                targetName: parsed.targetName,
                authentication: try parsed.authentication(),
                proposal: offer.nativeProposal
            )
            configuration.connectTimeout = offer.loginTimeout
            configuration.loginTimeout = offer.loginTimeout
            if let keepalive = offer.keepalive {
                configuration.keepaliveInterval = keepalive.interval
                configuration.keepaliveTimeout = keepalive.timeout
            }
            if offer.failFast { configuration.recoveryTimeout = .zero }
            configuration.source = offer.source
            return try await ISCSILUN.connect(parsed, configuration: configuration)
        case .libiscsi:
            return try await LibISCSIDevice.connect(url: url, configuration: offer.libiscsiConfiguration)
        }
    }

    /// The operational keys the engine negotiated, where they can be read. libiscsi
    /// keeps them in its private context struct with no getter, and tgtadm does not
    /// show them per session either, so for libiscsi only the data can be checked.
    func negotiated(_ device: any BlockDevice) -> NegotiatedParameters? {
        switch self {
        case .native: (device as? ISCSILUN)?.session.negotiated
        case .libiscsi: nil
        }
    }
}
