// Runs a test's own ExportServer (one a test built with several targets or LUNs, where
// ExportHarness has one) and always shuts it down and closes its devices.

import BlockDevice
import Export

enum ExportServerRun {
    /// Starts `server`, runs `body` with its first portal's port, then shuts the server down
    /// and closes `devices`, whatever `body` did.
    static func with<T: Sendable>(_ server: ExportServer, devices: [FileBlockDevice], _ body: (Int) async throws -> T) async throws -> T {
        do {
            let port = try await server.start()[0].port
            let value = try await body(port)
            await server.shutdown()
            for device in devices { try await device.close() }
            return value
        } catch {
            await server.shutdown()
            for device in devices { try? await device.close() }
            throw error
        }
    }
}
