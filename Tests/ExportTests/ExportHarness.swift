// An export served in-process on a free loopback port over a scratch image file, for
// tests that point real clients (libiscsi tools, qemu-img, our own initiator) at it.

import BlockDevice
import Export
import Foundation
import ISCSI
import ISCSIAddress
import Logging
import NIOCore
import NIOPosix
import TestSupport
import VSCSI

/// One running export with one LUN over a sparse image; `stop()` always runs.
final class ExportHarness: Sendable {
    static let iqn = "iqn.2025-01.io.vdiskd:harness"
    let directory: ScratchDirectory
    let imagePath: String
    let server: ExportServer
    let device: FileBlockDevice
    let unit: LogicalUnit
    let portals: [ISCSIEndpoint]

    private init(directory: ScratchDirectory, imagePath: String, server: ExportServer, device: FileBlockDevice, unit: LogicalUnit, portals: [ISCSIEndpoint]) {
        self.directory = directory
        self.imagePath = imagePath
        self.server = server
        self.device = device
        self.unit = unit
        self.portals = portals
    }

    /// Starts a server on `portalCount` free loopback ports; the unit sees the image through `wrap`.
    static func start(
        size: UInt64 = 64 << 20, access: TargetAccessPolicy = TargetAccessPolicy(), portalCount: Int = 1,
        pingInterval: TimeAmount? = .seconds(15), statistics: IOStatistics? = nil,
        wrap: (FileBlockDevice) -> any BlockDevice = { $0 },
        configure: (inout ExportConfiguration) -> Void = { _ in }
    ) async throws -> ExportHarness {
        let directory = try ScratchDirectory(prefix: "export")
        do {
            let imagePath = try directory.createSparseFile("disk.img", size: size)
            let device = try FileBlockDevice(path: imagePath)
            let registry = LogicalUnitRegistry()
            let unit = LogicalUnit(
                device: wrap(device), identity: LogicalUnitIdentity(uuid: UUID(), name: "disk"), options: LogicalUnitOptions(thinProvisioned: true),
                registry: registry, statistics: statistics
            )
            let target = ExportTarget(name: iqn, access: access, units: [0: unit])
            var logger = Logger(label: "export.test")
            logger.logLevel = .warning
            var configuration = ExportConfiguration(
                portals: (0..<portalCount).map { _ in ISCSIEndpoint(host: "127.0.0.1", port: 0) },
                pingInterval: pingInterval, pingTimeout: .seconds(2), drainTimeout: .seconds(2)
            )
            configure(&configuration)
            let server = ExportServer(
                targets: [target],
                configuration: configuration,
                group: MultiThreadedEventLoopGroup.singleton, logger: logger
            )
            let portals = try await server.start()
            return ExportHarness(directory: directory, imagePath: imagePath, server: server, device: device, unit: unit, portals: portals)
        } catch {
            directory.remove()
            throw error
        }
    }

    var portal: ISCSIEndpoint { portals[0] }

    func url(chap: CHAPAuthentication? = nil, portal index: Int = 0) -> String {
        Portal(host: portals[index].host, port: portals[index].port).libiscsiURL(target: Self.iqn, lun: 0, chap: chap)
    }

    func session(
        initiator: String = "iqn.2025-01.io.vdiskd:native", authentication: LoginAuthentication = .none
    ) async throws -> ISCSISession {
        try await ISCSISession.connect(ISCSISessionConfiguration(
            portal: TargetPortal(host: portal.host, port: portal.port), targetName: Self.iqn,
            initiatorName: initiator, authentication: authentication, loginTimeout: .seconds(10)
        ))
    }

    func stop() async {
        await server.shutdown()
        try? await device.close()
        directory.remove()
    }

    /// Runs `body` with a started harness and stops it whatever happens.
    static func with<T: Sendable>(
        size: UInt64 = 64 << 20, access: TargetAccessPolicy = TargetAccessPolicy(), portalCount: Int = 1,
        pingInterval: TimeAmount? = .seconds(15), statistics: IOStatistics? = nil,
        wrap: (FileBlockDevice) -> any BlockDevice = { $0 },
        configure: (inout ExportConfiguration) -> Void = { _ in },
        _ body: (ExportHarness) async throws -> T
    ) async throws -> T {
        let harness = try await start(
            size: size, access: access, portalCount: portalCount, pingInterval: pingInterval, statistics: statistics, wrap: wrap, configure: configure
        )
        do {
            let value = try await body(harness)
            await harness.stop()
            return value
        } catch {
            await harness.stop()
            throw error
        }
    }
}
