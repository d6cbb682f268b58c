// `disks.stats` and `metrics` through the dispatcher, with a real logical unit doing the I/O.

import BlockDevice
import Control
import Daemon
import Foundation
import NIOCore
import SCSI
import Testing
import TestSupport
import VSCSI

@Suite struct StatisticsMethodsTests {
    private func call(_ dispatcher: ControlDispatcher, _ method: String, params: String? = nil) async throws -> JSONValue {
        let line = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\(method)\"" + (params.map { ",\"params\":\($0)" } ?? "") + "}"
        let text = try #require(await dispatcher.respond(to: .line(Array(line.utf8)), peer: DispatcherFixture.nobody))
        return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    /// A logical unit over a scratch image whose statistics are the daemon's for `ds1/vm1`.
    private func unit(_ state: DaemonState, in scratch: TemporaryDirectory) throws -> LogicalUnit {
        let device = try FileBlockDevice.create(path: "\(scratch.path)/vm1.img", byteCount: 1 << 20, blockSize: 512)
        return LogicalUnit(
            device: device, identity: LogicalUnitIdentity(uuid: UUID(), name: "vm1"),
            statistics: state.diskStatistics.statistics(for: "ds1/vm1")
        )
    }

    private func read(_ unit: LogicalUnit, lba: UInt32, blocks: UInt16) async -> SCSICommandResponse {
        let nexus = Nexus(initiatorPortName: "iqn.2026-11.test:i,i,0x1", relativeTargetPort: 1)
        return await unit.execute(SCSICommandRequest(cdb: CDB.read10(lba: lba, blockCount: blocks), expectedDataInLength: 1 << 20, nexus: nexus))
    }

    @Test func diskStatsListsEveryConfiguredDiskWithZerosBeforeIO() async throws {
        let (dispatcher, _) = try DispatcherFixture.make()
        let result = try #require(try await call(dispatcher, "disks.stats")["result"]?.arrayValue)
        #expect(result.count == 1)
        #expect(result.first?["disk"] == .string("ds1/vm1"))
        #expect(result.first?["read"]?["operations"] == .int(0))
        #expect(result.first?["read"]?["latency_us"] == nil)
    }

    @Test func diskStatsAndMetricsShowTheUnitsIO() async throws {
        let (dispatcher, state) = try DispatcherFixture.make()
        let scratch = TemporaryDirectory("vdiskd-test")
        let unit = try unit(state, in: scratch)
        // The first command meets the power-on unit attention: a read that fails, counted as an error.
        #expect(await read(unit, lba: 0, blocks: 1).status == .checkCondition)
        for index in 0..<10 {
            #expect(await read(unit, lba: UInt32(index) * 4, blocks: 4).status == .good)
        }
        let stats = try #require(try await call(dispatcher, "disks.stats", params: "{\"disk\":\"ds1/vm1\"}")["result"]?.arrayValue?.first)
        #expect(stats["read"]?["operations"] == .int(11))
        #expect(stats["read"]?["bytes"] == .int(10 * 4 * 512))
        #expect(stats["read"]?["errors"] == .int(1))
        #expect(stats["read"]?["latency_us"]?["p99"]?.intValue != nil)
        #expect(stats["write"]?["operations"] == .int(0))

        let text = try #require(try await call(dispatcher, "metrics")["result"]?["text"]?.stringValue)
        #expect(text.contains("vdiskd_disk_operations_total{disk=\"ds1/vm1\",kind=\"read\"} 11\n"))
        #expect(text.contains("vdiskd_disk_bytes_total{disk=\"ds1/vm1\",kind=\"read\"} 20480\n"))
        #expect(text.contains("vdiskd_disk_errors_total{disk=\"ds1/vm1\",kind=\"read\"} 1\n"))
        #expect(text.contains("vdiskd_disk_latency_seconds_count{disk=\"ds1/vm1\",kind=\"read\"} 11\n"))
        // Counted when the dispatcher took it, so this very call is in the text.
        #expect(text.contains("vdiskd_control_requests_total{method=\"metrics\"} 1\n"))
    }

    @Test func badDiskParamsAreRefusedNamingTheProblem() async throws {
        let (dispatcher, _) = try DispatcherFixture.make()
        let unknown = try await call(dispatcher, "disks.stats", params: "{\"disk\":\"ds1/nope\"}")
        #expect(unknown["error"]?["code"] == .int(-32004))
        #expect(unknown["error"]?["message"]?.stringValue?.contains("no disk \"ds1/nope\" is configured") == true)
        #expect(try await call(dispatcher, "disks.stats", params: "{\"disk\":7}")["error"]?["code"] == .int(-32602))
    }

    @Test func unknownMethodsShareOneMetricsLabel() async throws {
        let (dispatcher, state) = try DispatcherFixture.make()
        for index in 0..<5 { _ = try await call(dispatcher, "made.up.\(index)") }
        let text = state.metrics.exposition()
        #expect(text.contains("vdiskd_control_requests_total{method=\"unknown\"} 5\n"))
        #expect(!text.contains("made.up"))
    }
}
