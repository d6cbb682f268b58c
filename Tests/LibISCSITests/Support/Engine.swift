// The initiator engines the integration tests run on. Each test body takes an
// Engine argument, so the native engine joins by adding a case here.

import BlockDevice
import LibISCSI
import NIOCore

enum Engine: String, Sendable, CaseIterable, CustomStringConvertible {
    case libiscsi

    var description: String { rawValue }

    /// Opens `url` (libiscsi's URL form) on this engine.
    func open(
        _ url: String,
        chap: LibISCSIConfiguration.CHAP? = nil,
        commandTimeout: TimeAmount = .seconds(30),
        configure: (inout LibISCSIConfiguration) -> Void = { _ in }
    ) async throws -> any BlockDevice {
        switch self {
        case .libiscsi:
            var configuration = LibISCSIConfiguration(chap: chap, loginTimeout: .seconds(10), commandTimeout: commandTimeout)
            configure(&configuration)
            return try await LibISCSIDevice.connect(url: url, configuration: configuration)
        }
    }
}
