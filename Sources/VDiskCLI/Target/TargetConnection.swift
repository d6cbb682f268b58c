// Opens a session or a LUN for one command, on the engine the options name, and always
// logs out afterwards.

import BlockDevice
import ISCSI
import ISCSIAddress
import LibISCSI

enum TargetConnection {
    /// Logs in to the URL's target with the native engine, runs `body`, then logs out
    /// (also when `body` throws). For commands that need a session, not a block device.
    static func withSession<T>(
        _ url: ISCSITargetURL,
        options: TargetOptions,
        _ body: (ISCSISession) async throws -> T
    ) async throws -> T {
        let session = try await ISCSISession.connect(try options.sessionConfiguration(for: url))
        do {
            let value = try await body(session)
            try await session.logout()
            return value
        } catch {
            try? await session.logout()
            throw error
        }
    }

    /// Opens the URL's LUN as a block device on the chosen engine, runs `body`, then closes it (logging out).
    static func withDevice<T>(
        _ url: ISCSITargetURL,
        options: TargetOptions,
        _ body: (any SCSIPassthrough) async throws -> T
    ) async throws -> T {
        let device: any SCSIPassthrough = switch options.engine {
        case .native:
            try await ISCSILUN.connect(url, configuration: try options.sessionConfiguration(for: url))
        case .libiscsi:
            try await LibISCSIDevice.connect(
                url: TargetOptions.libiscsiURL(url),
                configuration: try options.libiscsiConfiguration(for: url)
            )
        }
        return try await using(device, body)
    }

    /// Runs `body` with `device`, then closes it (also when `body` throws).
    static func using<Device: BlockDevice, T>(_ device: Device, _ body: (Device) async throws -> T) async throws -> T {
        do {
            let value = try await body(device)
            try await device.close()
            return value
        } catch {
            try? await device.close()
            throw error
        }
    }
}
