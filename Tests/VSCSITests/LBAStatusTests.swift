// GET LBA STATUS with a device that reports its allocation: runs of mapped and
// deallocated blocks after writes and UNMAP, limited by the allocation length.

import BlockDevice
import Foundation
import NIOCore
import SCSI
import TestSupport
import Testing
@testable import VSCSI

@Suite struct LBAStatusTests {
    @Test func mappedAndDeallocatedRunsAreReported() async throws {
        let directory = TemporaryDirectory()
        let file = try FileBlockDevice.create(path: directory.file("img"), byteCount: 1024 * 512)
        let device = TrackingBlockDevice(file)
        let unit = LogicalUnit(device: device, identity: LogicalUnitIdentity(uuid: UUID(), name: "tracked"), options: LogicalUnitOptions(thinProvisioned: true))
        func run(_ cdb: [UInt8], _ data: [UInt8] = []) async -> SCSICommandResponse {
            await unit.execute(SCSICommandRequest(cdb: cdb, dataOut: ByteBuffer(bytes: data), expectedDataInLength: 4096, nexus: UnitFixture.a))
        }
        _ = await run(CDB.testUnitReady())
        #expect(await run(CDB.write10(lba: 0, blockCount: 16), [UInt8](repeating: 1, count: 16 * 512)).status == .good)
        let (unmapCDB, list) = CDB.unmap([UnmapBlockDescriptor(lba: 4, blockCount: 4)])
        #expect(await run(unmapCDB, list).status == .good)
        let response = await run([0x9E, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 56, 0, 0])
        let bytes = response.bytes
        #expect(bytes.count == 56)
        // Mapped 0-3, deallocated 4-7, mapped 8-15.
        func run(at index: Int) -> (UInt64, UInt64, UInt8) {
            let offset = 8 + 16 * index
            return (bytes[offset..<(offset + 8)].reduce(0) { $0 << 8 | UInt64($1) },
                    bytes[(offset + 8)..<(offset + 12)].reduce(0) { $0 << 8 | UInt64($1) },
                    bytes[offset + 12] & 0x0F)
        }
        #expect(run(at: 0) == (0, 4, 0))
        #expect(run(at: 1) == (4, 4, 1))
        #expect(run(at: 2) == (8, 8, 0))
        #expect(Array(bytes[0..<4]) == [0, 0, 0, 52])
    }
}
