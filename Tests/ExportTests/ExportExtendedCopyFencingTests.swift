// EXTENDED COPY against a real export, from raw connections: initiator A reserves LUN 1
// (SPC-2 RESERVE or a SCSI-3 Exclusive Access reservation); initiator B, whose own READ
// and WRITE to LUN 1 conflict, sends EXTENDED COPY to LUN 0 naming LUN 1 as destination
// and as source. Both copies get RESERVATION CONFLICT and no block moves.

import BlockDevice
import Export
import Foundation
import ISCSI
import ISCSIAddress
import Logging
import NIOCore
import NIOPosix
import SCSI
import TestSupport
import Testing
import VSCSI

@Suite(.timeLimit(.minutes(2))) struct ExportExtendedCopyFencingTests {
    enum Fence: CaseIterable {
        case spc2Reserve
        case persistentExclusiveAccess
    }

    @Test(arguments: Fence.allCases)
    func aCopyCannotReachIntoOrOutOfAUnitAnotherInitiatorReserved(fence: Fence) async throws {
        let directory = try ScratchDirectory(prefix: "export-xcopy")
        defer { directory.remove() }
        let registry = LogicalUnitRegistry()
        var devices: [FileBlockDevice] = []
        var units: [Int: LogicalUnit] = [:]
        for lun in 0..<2 {
            let device = try FileBlockDevice(path: try directory.createSparseFile("lun\(lun).img", size: 4 << 20))
            devices.append(device)
            units[lun] = LogicalUnit(device: device, identity: LogicalUnitIdentity(uuid: UUID(), name: "lun\(lun)"), options: LogicalUnitOptions(), registry: registry)
        }
        let iqn = "iqn.2025-01.io.vdiskd:xcopy"
        let server = ExportServer(
            targets: [ExportTarget(name: iqn, access: TargetAccessPolicy(), units: units)],
            configuration: ExportConfiguration(portals: [ISCSIEndpoint(host: "127.0.0.1", port: 0)], drainTimeout: .seconds(2)),
            group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "export.xcopy.test")
        )
        try await ExportServerRun.with(server, devices: devices) { port in
            let naa = (0..<2).map { units[$0]!.identity.naaIdentifier }
            let outcome = try await OffPool.run { () throws -> [String: UInt8] in
                try Self.scenario(port: port, iqn: iqn, naa: naa, fence: fence)
            }
            #expect(outcome["b reads lun 1"] == 0x18 && outcome["b writes lun 1"] == 0x18, "B's own commands conflict: \(outcome)")
            #expect(outcome["copy into lun 1"] == 0x18, "copy into the reserved unit: \(outcome)")
            #expect(outcome["copy out of lun 1"] == 0x18, "copy out of the reserved unit: \(outcome)")
            #expect(outcome["lun 0 unchanged"] == 1 && outcome["lun 1 unchanged"] == 1, "no block moved: \(outcome)")
            #expect(outcome["a copies"] == 0, "the holder itself still copies: \(outcome)")
        }
    }

    /// The whole exchange on two raw connections; statuses by step, 1/0 for the data checks.
    static func scenario(port: Int, iqn: String, naa: [[UInt8]], fence: Fence) throws -> [String: UInt8] {
        let a = try ScriptedInitiator(port: port, target: iqn, initiator: "iqn.2025-01.io.vdiskd:holder", isid: 0x80_0000_0005_00)
        let b = try ScriptedInitiator(port: port, target: iqn, initiator: "iqn.2025-01.io.vdiskd:copier", isid: 0x80_0000_0006_00)
        for initiator in [a, b] {
            for lun: UInt64 in [0, 1 << 48] {
                // TEST UNIT READY until the power-on unit attention is gone, at most five times.
                for _ in 0..<5 {
                    if try initiator.run(lun: lun, cdb: [0, 0, 0, 0, 0, 0]).status == 0 { break }
                }
            }
        }
        func write(_ initiator: ScriptedInitiator, lun: UInt64, seed: UInt64) throws -> [UInt8] {
            let data = TestPattern.bytes(seed: seed, count: 8 * 512)
            let done = try initiator.client.run(lun: lun, cdb: ExportDatastoreEndToEndTests.cdb10(0x2A, lba: 0, blocks: 8), sending: data, tag: initiator.tag(), cmdSN: initiator.cmdSN)
            initiator.cmdSN &+= 1
            guard done.status == 0 else { throw RawISCSIClient.Failure(description: "the WRITE to LUN \(lun >> 48) failed: \(done.status)") }
            return Array(data.readableBytesView)
        }
        func send(_ initiator: ScriptedInitiator, lun: UInt64, cdb: [UInt8], _ list: [UInt8]) throws -> UInt8 {
            defer { initiator.cmdSN &+= 1 }
            return try initiator.client.run(lun: lun, cdb: cdb, sending: ByteBuffer(bytes: list), tag: initiator.tag(), cmdSN: initiator.cmdSN).status
        }
        let lun1: UInt64 = 1 << 48
        let first = try write(b, lun: 0, seed: 31)
        let second = try write(a, lun: lun1, seed: 32)

        switch fence {
        case .spc2Reserve:
            guard try a.run(lun: lun1, cdb: [0x16, 0, 0, 0, 0, 0]).status == 0 else { throw RawISCSIClient.Failure(description: "RESERVE(6) failed") }
        case .persistentExclusiveAccess:
            let (register, registerList) = CDB.persistentReserveOut(.register(existingKey: 0, newKey: 0xA))
            let (reserve, reserveList) = CDB.persistentReserveOut(.reserve(key: 0xA, type: .exclusiveAccess))
            guard try send(a, lun: lun1, cdb: register, registerList) == 0, try send(a, lun: lun1, cdb: reserve, reserveList) == 0 else {
                throw RawISCSIClient.Failure(description: "PERSISTENT RESERVE OUT failed")
            }
        }
        var outcome: [String: UInt8] = [:]
        outcome["b reads lun 1"] = try b.run(lun: lun1, cdb: ExportDatastoreEndToEndTests.cdb10(0x28, lba: 0, blocks: 1), read: true, length: 512).status
        outcome["b writes lun 1"] = try send(b, lun: lun1, cdb: ExportDatastoreEndToEndTests.cdb10(0x2A, lba: 0, blocks: 1), [UInt8](repeating: 0xEE, count: 512))
        let targets = naa.map { CDB.copyTargetDescriptor(naa: $0, blockLength: 512) }
        func copy(_ initiator: ScriptedInitiator, from source: UInt16, to destination: UInt16, listID: UInt8) throws -> UInt8 {
            let list = CDB.copyParameterList(
                listID: listID, usage: 0b11, targets: targets,
                segments: [CDB.copyBlockSegment(source: source, destination: destination, blocks: 8, sourceLBA: 0, destinationLBA: 0)]
            )
            return try send(initiator, lun: 0, cdb: CDB.extendedCopy(parameterListLength: list.count), list)
        }
        outcome["copy into lun 1"] = try copy(b, from: 0, to: 1, listID: 1)
        outcome["copy out of lun 1"] = try copy(b, from: 1, to: 0, listID: 2)
        func read(_ initiator: ScriptedInitiator, lun: UInt64) throws -> [UInt8] {
            try initiator.run(lun: lun, cdb: ExportDatastoreEndToEndTests.cdb10(0x28, lba: 0, blocks: 8), read: true, length: 8 * 512).data
        }
        outcome["lun 0 unchanged"] = try read(b, lun: 0) == first ? 1 : 0
        outcome["lun 1 unchanged"] = try read(a, lun: lun1) == second ? 1 : 0
        // A, the holder, may copy LUN 1 onto LUN 0.
        outcome["a copies"] = try copy(a, from: 1, to: 0, listID: 3)
        return outcome
    }
}
