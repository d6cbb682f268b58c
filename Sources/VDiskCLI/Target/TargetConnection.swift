// Opens a session or a LUN for one command and always logs out afterwards.

import BlockDevice
import ISCSI

enum TargetConnection {
    /// Logs in to the URL's target, runs `body`, then logs out (also when `body` throws).
    static func withSession<T>(
        _ url: ISCSIURL,
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

    /// Opens the URL's LUN as a block device, runs `body`, then closes it (logging out).
    static func withDevice<T>(
        _ url: ISCSIURL,
        options: TargetOptions,
        _ body: (any BlockDevice) async throws -> T
    ) async throws -> T {
        let device = try await ISCSILUN.connect(url, configuration: try options.sessionConfiguration(for: url))
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
