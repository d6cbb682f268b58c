// Where the export runs a command: on its connection's event loop, which the server puts
// on `connectionGroup` when given one (export serve passes the LUN session's loop).

import BlockDevice
import Export
import Foundation
import ISCSI
import ISCSIAddress
import Logging
import NIOCore
import NIOPosix
import SCSI
import Synchronization
import TestSupport
import Testing
import VSCSI

@Suite struct ExportEventLoopTests {
    @Test func commandsRunOnTheConnectionGroupsLoop() async throws {
        let onLoop = try await reads(connectionsOnTheWatchedLoop: true)
        #expect(!onLoop.isEmpty)
        #expect(onLoop.allSatisfy { $0 }, "every device read ran on the connection's loop")
    }

    @Test func withoutAConnectionGroupConnectionsStayOnTheServersGroup() async throws {
        let onLoop = try await reads(connectionsOnTheWatchedLoop: false)
        #expect(!onLoop.isEmpty)
        #expect(onLoop.allSatisfy { !$0 }, "no device read ran on a loop the server was not given")
    }

    /// Serves a scratch image, writes and reads it back through our initiator, and returns
    /// for every device read whether it ran on a dedicated event loop.
    private func reads(connectionsOnTheWatchedLoop: Bool) async throws -> [Bool] {
        let directory = try ScratchDirectory(prefix: "export-loop")
        defer { directory.remove() }
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let watched = loops.next()
        let device = LoopRecordingDevice(try FileBlockDevice(path: try directory.createSparseFile("disk.img", size: 8 << 20)), watching: watched)
        let unit = LogicalUnit(
            device: device, identity: LogicalUnitIdentity(uuid: UUID(), name: "disk"), options: LogicalUnitOptions(),
            registry: LogicalUnitRegistry()
        )
        let iqn = "iqn.2025-01.io.vdiskd:loop"
        let server = ExportServer(
            targets: [ExportTarget(name: iqn, access: TargetAccessPolicy(), units: [0: unit])],
            configuration: ExportConfiguration(portals: [ISCSIEndpoint(host: "127.0.0.1", port: 0)], drainTimeout: .seconds(2)),
            group: MultiThreadedEventLoopGroup.singleton, connectionGroup: connectionsOnTheWatchedLoop ? watched : nil,
            logger: Logger(label: "export.loop.test")
        )
        do {
            let portal = try await server.start()[0]
            let lun = try await ISCSILUN.connect(try ISCSITargetURL(parsing: "iscsi://127.0.0.1:\(portal.port)/\(iqn)/0"))
            do {
                let pattern = ByteBuffer(bytes: (0..<(64 * 512)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
                try await lun.write(pattern, at: 128)
                for lba in stride(from: UInt64(128), to: 192, by: 16) {
                    let data = try await lun.read(at: lba, blockCount: 16)
                    #expect(data == pattern.getSlice(at: Int(lba - 128) * 512, length: 16 * 512))
                }
                try await lun.close()
            } catch {
                try? await lun.close()
                throw error
            }
        } catch {
            await server.shutdown()
            try? await device.close()
            try? await loops.shutdownGracefully()
            throw error
        }
        await server.shutdown()
        try await device.close()
        try await loops.shutdownGracefully()
        return device.readsOnWatchedLoop.withLock { $0 }
    }
}

/// A file device that notes, for every read, whether it ran on one watched event loop.
private final class LoopRecordingDevice: ForwardingBlockDevice {
    let inner: FileBlockDevice
    var base: any BlockDevice { inner }
    let watched: any EventLoop
    let readsOnWatchedLoop = Mutex<[Bool]>([])

    init(_ inner: FileBlockDevice, watching watched: any EventLoop) {
        self.inner = inner
        self.watched = watched
    }

    func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer {
        let onLoop = watched.inEventLoop
        readsOnWatchedLoop.withLock { $0.append(onLoop) }
        return try await inner.read(at: lba, blockCount: blockCount)
    }
}
