// Data-Out reassembly costs CPU linear in the bytes received: one 64 MiB WRITE in 8 KiB
// Data-Out PDUs against the same WRITE in 256 KiB PDUs, on an export whose connections all
// run on one event loop, measured as that loop thread's CPU time. Another session's NOP
// round trips on the same loop stay short meanwhile.

import BlockDevice
import Export
import Foundation
import ISCSI
import ISCSIAddress
import Logging
import NIOCore
import NIOPosix
import TestSupport
import Testing
import VSCSI

@Suite(.serialized, .timeLimit(.minutes(4))) struct ExportDataOutCostTests {
    static let writeBytes = 64 << 20

    @Test func aWriteInSmallPDUsCostsCPULinearInItsBytesAndLeavesOtherSessionsResponsive() async throws {
        let directory = try ScratchDirectory(prefix: "export-dataout")
        defer { directory.remove() }
        let image = try directory.createSparseFile("disk.img", size: UInt64(Self.writeBytes) + (1 << 20))
        let device = try FileBlockDevice(path: image)
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = loops.next()
        // 64 MiB in one command: the unit's transfer limit is raised to let it through.
        let unit = LogicalUnit(
            device: device, identity: LogicalUnitIdentity(uuid: UUID(), name: "disk"),
            options: LogicalUnitOptions(limits: LogicalUnitLimits(maximumTransferLength: UInt32(Self.writeBytes / 512))),
            registry: LogicalUnitRegistry()
        )
        let iqn = "iqn.2025-01.io.vdiskd:dataout"
        var logger = Logger(label: "export.dataout.test")
        logger.logLevel = .warning
        let server = ExportServer(
            targets: [ExportTarget(name: iqn, access: TargetAccessPolicy(), units: [0: unit])],
            configuration: ExportConfiguration(portals: [ISCSIEndpoint(host: "127.0.0.1", port: 0)], pingInterval: nil, drainTimeout: .seconds(2)),
            group: loop, connectionGroup: loop, logger: logger
        )
        do {
            let port = try await server.start()[0].port
            let data = Self.pattern(bytes: Self.writeBytes)
            let writer = try await OffPool.run { () throws -> RawISCSIClient in
                let client = try RawISCSIClient(port: port, timeoutSeconds: 60)
                let login = try client.login(target: iqn, initiator: "iqn.2025-01.io.vdiskd:writer", keys: RawISCSIClient.solicitedWriteKeys())
                guard login.statusClass == 0 else { throw RawISCSIClient.Failure(description: "writer login refused: \(login.statusClass)/\(login.statusDetail)") }
                return client
            }
            let pinger = try await OffPool.run { try ScriptedInitiator(port: port, target: iqn, initiator: "iqn.2025-01.io.vdiskd:pinger") }
            // The first command of a nexus meets POWER ON, RESET; the timed writes should not.
            let first = try await OffPool.run { try writer.write(data.getSlice(at: 0, length: 4096)!, at: 0, pduSize: 4096, tag: 1, cmdSN: 1) }
            #expect(first.status == 2, "the first command reports the unit attention")

            let large = try await Self.timedWrite(data, pduSize: 256 << 10, writer: writer, tag: 2, cmdSN: 2, loop: loop, pinger: pinger)
            let small = try await Self.timedWrite(data, pduSize: 8 << 10, writer: writer, tag: 3, cmdSN: 3, loop: loop, pinger: pinger)
            print("64 MiB WRITE: loop CPU \(large.cpu) in 256 KiB PDUs, \(small.cpu) in 8 KiB PDUs; NOP round trips during the 8 KiB write: \(small.pings.count), slowest \(small.pings.max() ?? .zero)")
            #expect(large.status == 0 && small.status == 0, "both writes succeed")
            // Linear: 32 times the PDUs cost little more than their headers. A copy of the
            // received data per PDU (quadratic) is 8192 copies of 32 MiB on average, minutes of CPU.
            #expect(small.cpu < .seconds(4), "8 KiB PDUs: \(small.cpu) of event-loop CPU for 64 MiB")
            #expect(small.cpu < large.cpu * 12 + .seconds(1), "8 KiB PDUs cost \(small.cpu), 256 KiB PDUs \(large.cpu)")
            #expect(small.pings.count >= 3, "the other session pinged while the write ran")
            let slow = small.pings.filter { $0 >= .milliseconds(100) }
            // One stall of the loaded test machine's scheduler is forgiven, not a pattern.
            #expect(slow.count <= 1, "NOP round trips of 100 ms or more during the write: \(slow)")
            let written = try await device.read(at: 0, blockCount: Self.writeBytes / 512)
            #expect(written == data, "the image holds what was written")
            try? await OffPool.run { try pinger.logout() }
        } catch {
            await server.shutdown()
            try? await device.close()
            try? await loops.shutdownGracefully()
            throw error
        }
        await server.shutdown()
        try await device.close()
        try await loops.shutdownGracefully()
    }

    struct Measurement {
        var status: UInt8
        var cpu: Duration
        var pings: [Duration]
    }

    /// One WRITE of `data` in `pduSize` Data-Out PDUs, with the loop's CPU time around it
    /// and another session pinging every 20 ms while it runs (bounded: 3000 pings).
    static func timedWrite(
        _ data: ByteBuffer, pduSize: Int, writer: RawISCSIClient, tag: UInt32, cmdSN: UInt32, loop: any EventLoop, pinger: ScriptedInitiator
    ) async throws -> Measurement {
        let cpuBefore = try await loop.submit { ThreadCPUTime.current() }.get()
        let done = ExportMalformedInputTests.Progress()
        async let pings = OffPool.run { () throws -> [Duration] in
            var times: [Duration] = []
            let clock = ContinuousClock()
            for _ in 0..<3000 where !done.finished.withLock({ $0 }) {
                let start = clock.now
                guard try pinger.ping() else { throw RawISCSIClient.Failure(description: "the pinging session lost its connection") }
                times.append(clock.now - start)
                usleep(20_000)
            }
            return times
        }
        let completion: RawISCSIClient.Completion
        do {
            // A copy of the received data per PDU takes minutes here; the write gives up after 60 s.
            completion = try await OffPool.run { try writer.write(data, at: 0, pduSize: pduSize, tag: tag, cmdSN: cmdSN, within: .seconds(60)) }
        } catch {
            done.finished.withLock { $0 = true }
            _ = try? await pings
            throw error
        }
        done.finished.withLock { $0 = true }
        let cpu = try await loop.submit { ThreadCPUTime.current() }.get() - cpuBefore
        return Measurement(status: completion.status, cpu: cpu, pings: try await pings)
    }

    /// `bytes` of data in which every 512-byte block differs from its neighbours.
    static func pattern(bytes: Int) -> ByteBuffer {
        var block = [UInt8](repeating: 0, count: 512)
        for index in block.indices { block[index] = UInt8(truncatingIfNeeded: index &* 7) }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(bytes)
        for number in 0..<(bytes / 512) {
            withUnsafeBytes(of: UInt32(number).bigEndian) { block.replaceSubrange(0..<4, with: $0) }
            buffer.writeBytes(block)
        }
        return buffer
    }
}
