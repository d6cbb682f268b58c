// READ/WRITE/VERIFY/WRITE AND VERIFY in every size, ORWRITE, WRITE ATOMIC, WRITE SAME,
// UNMAP, PRE-FETCH, SYNCHRONIZE CACHE and GET LBA STATUS over a sparse image file.

import BlockDevice
import Foundation
import NIOCore
import SCSI
import Testing
@testable import VSCSI

@Suite struct DataCommandTests {
    /// (write CDB, read CDB) of each size for `blocks` blocks at `lba`.
    static func pairs(lba: UInt32, blocks: UInt8) -> [(String, [UInt8], [UInt8])] {
        var six = ([UInt8(0x0A), UInt8(lba >> 16 & 0x1F), UInt8(lba >> 8 & 0xFF), UInt8(lba & 0xFF), blocks, 0], [UInt8]())
        six.1 = six.0
        six.1[0] = 0x08
        var twelve = [UInt8](repeating: 0, count: 12)
        twelve[0] = 0xAA
        twelve[2...5] = [UInt8(lba >> 24), UInt8(lba >> 16 & 0xFF), UInt8(lba >> 8 & 0xFF), UInt8(lba & 0xFF)]
        twelve[9] = blocks
        var readTwelve = twelve
        readTwelve[0] = 0xA8
        return [
            ("6", six.0, six.1),
            ("10", CDB.write10(lba: lba, blockCount: UInt16(blocks), fua: true), CDB.read10(lba: lba, blockCount: UInt16(blocks), dpo: true)),
            ("12", twelve, readTwelve),
            ("16", CDB.write16(lba: UInt64(lba), blockCount: UInt32(blocks)), CDB.read16(lba: UInt64(lba), blockCount: UInt32(blocks), fua: true)),
        ]
    }

    @Test func everySizeWritesAndReadsBack() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        for (index, (name, write, read)) in Self.pairs(lba: 100, blocks: 3).enumerated() {
            let data = fixture.pattern(UInt8(index + 1), blocks: 3)
            let written = await fixture.run(write, data: data)
            #expect(written.status == .good, "WRITE(\(name))")
            #expect(written.transferLength == data.count)
            let back = await fixture.run(read)
            #expect(back.status == .good, "READ(\(name))")
            #expect(back.bytes == data, "READ(\(name))")
        }
        // The 6-byte commands read 256 blocks for a length of 0.
        let whole = await fixture.run([0x08, 0, 0, 0, 0, 0])
        #expect(whole.bytes.count == 256 * 512)
    }

    @Test func rangesPastTheEndAreRefused() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let last = UInt32(UnitFixture.blockCount)
        #expect(await fixture.run(CDB.read10(lba: last - 1, blockCount: 2)).asc == .logicalBlockAddressOutOfRange)
        #expect(await fixture.run(CDB.read16(lba: .max, blockCount: 1)).asc == .logicalBlockAddressOutOfRange)
        #expect(await fixture.run(CDB.write10(lba: last, blockCount: 1), data: fixture.pattern(1)).asc == .logicalBlockAddressOutOfRange)
        // A transfer of 0 blocks may start just past the end, not beyond.
        #expect(await fixture.run(CDB.read10(lba: last, blockCount: 0)).status == .good)
        #expect(await fixture.run(CDB.read10(lba: last + 1, blockCount: 0)).asc == .logicalBlockAddressOutOfRange)
        // Beyond MAXIMUM TRANSFER LENGTH.
        let long = await fixture.run(CDB.read16(lba: 0, blockCount: 40000))
        #expect(long.fieldPointer == .fieldPointer(inCDB: true, byte: 10, bit: nil))
        // Less Data-Out than the CDB announces.
        let short = await fixture.run(CDB.write10(lba: 0, blockCount: 2), data: fixture.pattern(1))
        #expect(short.fieldPointer == .fieldPointer(inCDB: true, byte: 7, bit: nil))
    }

    @Test func readDataIsCutToTheExpectedLength() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let response = await fixture.run(CDB.read10(lba: 0, blockCount: 4), expected: 512)
        #expect(response.bytes.count == 512)
        #expect(response.transferLength == 2048)
    }

    @Test func verifyComparesWithEachByteCheck() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let block = fixture.pattern(9)
        #expect(await fixture.run(CDB.write10(lba: 10, blockCount: 2), data: block + block).status == .good)
        for code: UInt8 in [0x2F, 0xAF, 0x8F] {
            func verify(_ byteCheck: UInt8, count: UInt8) -> [UInt8] {
                switch code {
                case 0x2F: [code, byteCheck << 1, 0, 0, 0, 10, 0, 0, count, 0]
                case 0xAF: [code, byteCheck << 1, 0, 0, 0, 10, 0, 0, 0, count, 0, 0]
                default: [code, byteCheck << 1, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, count, 0, 0]
                }
            }
            #expect(await fixture.run(verify(0, count: 2)).status == .good)
            #expect(await fixture.run(verify(1, count: 2), data: block + block).status == .good)
            #expect(await fixture.run(verify(3, count: 2), data: block).status == .good)
            var changed = block + block
            changed[700] ^= 0xFF
            let miscompare = await fixture.run(verify(1, count: 2), data: changed)
            #expect(miscompare.senseKey == .miscompare)
            #expect(miscompare.asc == .miscompareDuringVerifyOperation)
            #expect(miscompare.senseData?.information == 700)
            var other = block
            other[3] ^= 1
            let oneBlock = await fixture.run(verify(3, count: 2), data: other)
            #expect(oneBlock.senseData?.information == 3)
            #expect(await fixture.run(verify(2, count: 2)).fieldPointer == .fieldPointer(inCDB: true, byte: 1, bit: 2))
        }
    }

    @Test func writeAndVerifyWritesThenCompares() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let data = fixture.pattern(4, blocks: 2)
        #expect(await fixture.run([0x2E, 0x02, 0, 0, 0, 20, 0, 0, 2, 0], data: data).status == .good)
        #expect(await fixture.run([0x8E, 0x00, 0, 0, 0, 0, 0, 0, 0, 30, 0, 0, 0, 2, 0, 0], data: data).status == .good)
        #expect(await fixture.run(CDB.read10(lba: 20, blockCount: 2)).bytes == data)
        #expect(await fixture.run(CDB.read10(lba: 30, blockCount: 2)).bytes == data)
        #expect(await fixture.run([0xAE, 0x06, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0], data: data).asc == .invalidFieldInCDB)
    }

    @Test func orWriteAndWriteAtomic() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let low = [UInt8](repeating: 0x0F, count: 512)
        let high = [UInt8](repeating: 0xF0, count: 512)
        #expect(await fixture.run(CDB.write10(lba: 5, blockCount: 1), data: low).status == .good)
        #expect(await fixture.run([0x8B, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0], data: high).status == .good)
        #expect(await fixture.run(CDB.read10(lba: 5, blockCount: 1)).bytes == [UInt8](repeating: 0xFF, count: 512))

        let atomic = fixture.pattern(7, blocks: 2)
        #expect(await fixture.run([0x9C, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 2, 0, 0], data: atomic).status == .good)
        #expect(await fixture.run(CDB.read10(lba: 40, blockCount: 2)).bytes == atomic)
        let boundary = await fixture.run([0x9C, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 1, 0, 2, 0, 0], data: atomic)
        #expect(boundary.fieldPointer == .fieldPointer(inCDB: true, byte: 10, bit: nil))
        let tooLong = await fixture.run([0x9C, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0x10, 0, 0, 0])
        #expect(tooLong.fieldPointer == .fieldPointer(inCDB: true, byte: 12, bit: nil))
    }

    @Test func writeSameFillsAndUnmaps() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let block = fixture.pattern(3)
        #expect(await fixture.run(CDB.writeSame16(lba: 64, blockCount: 8), data: block).status == .good)
        #expect(await fixture.run(CDB.read16(lba: 64, blockCount: 8)).bytes == Array((0..<8).map { _ in block }.joined()))
        // WRITE SAME(10) with UNMAP and zeros deallocates; NDOB needs no Data-Out.
        #expect(await fixture.run([0x41, 0x08, 0, 0, 0, 64, 0, 0, 4, 0], data: [UInt8](repeating: 0, count: 512)).status == .good)
        #expect(await fixture.run([0x93, 0x09, 0, 0, 0, 0, 0, 0, 0, 68, 0, 0, 0, 4, 0, 0]).status == .good)
        #expect(await fixture.run(CDB.read16(lba: 64, blockCount: 8)).bytes == [UInt8](repeating: 0, count: 8 * 512))
        // UNMAP deallocates whatever the block holds; deallocated blocks read zeros (LBPRZ).
        #expect(await fixture.run(CDB.writeSame16(lba: 64, blockCount: 8), data: block).status == .good)
        #expect(await fixture.run([0x41, 0x08, 0, 0, 0, 64, 0, 0, 8, 0], data: block).status == .good)
        #expect(await fixture.run(CDB.read16(lba: 64, blockCount: 8)).bytes == [UInt8](repeating: 0, count: 8 * 512))
        // The Data-Out is exactly one block.
        for size in [256, 1024] {
            let wrong = await fixture.run([0x41, 0, 0, 0, 0, 64, 0, 0, 1, 0], data: [UInt8](repeating: 7, count: size))
            #expect(wrong.senseKey == .illegalRequest)
            #expect(wrong.fieldPointer == .fieldPointer(inCDB: true, byte: 7, bit: nil))
        }
        let thick = try UnitFixture(options: LogicalUnitOptions(thinProvisioned: false))
        await thick.clearUnitAttentions()
        let noUnmap = await thick.run([0x41, 0x08, 0, 0, 0, 64, 0, 0, 4, 0], data: block)
        #expect(noUnmap.fieldPointer == .fieldPointer(inCDB: true, byte: 1, bit: 3))
    }

    @Test func writeSameOfZeroBlocksRunsToTheLastBlock() async throws {
        var options = LogicalUnitOptions(thinProvisioned: true)
        options.limits.maximumWriteSameLength = 1000
        let fixture = try UnitFixture(options: options)
        await fixture.clearUnitAttentions()
        let last = UnitFixture.blockCount - 1
        let block = fixture.pattern(7)
        // NUMBER OF LOGICAL BLOCKS 0: from the LBA to the last block, here 1000 blocks.
        let start = UnitFixture.blockCount - 1000
        #expect(await fixture.run(CDB.writeSame16(lba: start, blockCount: 0), data: block).status == .good)
        #expect(await fixture.run(CDB.read16(lba: start, blockCount: 1000)).bytes == Array((0..<1000).map { _ in block }.joined()))
        #expect(await fixture.run(CDB.read16(lba: start - 1, blockCount: 1)).bytes == [UInt8](repeating: 0, count: 512))
        let ten = [0x41, 0, 0, 0, UInt8((last >> 8) & 0xFF), UInt8(last & 0xFF), 0, 0, 0, 0]
        #expect(await fixture.run(ten, data: fixture.pattern(8)).status == .good)
        #expect(await fixture.run(CDB.read16(lba: last, blockCount: 1)).bytes == fixture.pattern(8))
        // 1001 blocks to the end exceed MAXIMUM WRITE SAME LENGTH: INVALID FIELD IN CDB on the count.
        let tooMany = await fixture.run(CDB.writeSame16(lba: start - 1, blockCount: 0), data: block)
        #expect(tooMany.senseKey == .illegalRequest)
        #expect(tooMany.asc == .invalidFieldInCDB)
        #expect(tooMany.fieldPointer == .fieldPointer(inCDB: true, byte: 10, bit: nil))
        let fromZero = await fixture.run([0x41, 0, 0, 0, 0, 0, 0, 0, 0, 0], data: block)
        #expect(fromZero.fieldPointer == .fieldPointer(inCDB: true, byte: 7, bit: nil))
        // Starting at or past the end is LBA OUT OF RANGE, whatever the count.
        for lba in [UnitFixture.blockCount, UnitFixture.blockCount + 1, UInt64(UInt32.max)] {
            let outside = await fixture.run(CDB.writeSame16(lba: lba, blockCount: 0), data: block)
            #expect(outside.senseKey == .illegalRequest)
            #expect(outside.asc == .logicalBlockAddressOutOfRange)
        }
    }

    @Test func unmapDeallocatesAndChecksItsList() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        #expect(await fixture.run(CDB.write10(lba: 8, blockCount: 8), data: fixture.pattern(5, blocks: 8)).status == .good)
        let (cdb, list) = CDB.unmap([UnmapBlockDescriptor(lba: 8, blockCount: 4), UnmapBlockDescriptor(lba: 14, blockCount: 2)])
        #expect(await fixture.run(cdb, data: list).status == .good)
        let back = await fixture.run(CDB.read10(lba: 8, blockCount: 8)).bytes
        #expect(back[0..<(4 * 512)].allSatisfy { $0 == 0 })
        #expect(Array(back[(4 * 512)..<(6 * 512)]) == Array(fixture.pattern(5, blocks: 8)[(4 * 512)..<(6 * 512)]))
        #expect(back[(6 * 512)...].allSatisfy { $0 == 0 })

        #expect(await fixture.run(CDB.unmap(parameterListLength: 0)).status == .good)
        #expect(await fixture.run(CDB.unmap(parameterListLength: 6), data: [0, 0, 0, 0, 0, 0]).asc == .parameterListLengthError)
        let outside = CDB.unmap([UnmapBlockDescriptor(lba: UnitFixture.blockCount - 1, blockCount: 2)])
        #expect(await fixture.run(outside.cdb, data: outside.parameterList).asc == .logicalBlockAddressOutOfRange)
        let huge = CDB.unmap([UnmapBlockDescriptor(lba: 0, blockCount: 0x40_0001)])
        #expect(await fixture.run(huge.cdb, data: huge.parameterList).asc == .invalidFieldInParameterList)
    }

    @Test func cacheCommandsAndLBAStatus() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        #expect(await fixture.run(CDB.synchronizeCache10()).status == .good)
        #expect(await fixture.run(CDB.synchronizeCache16(lba: 10, blockCount: 10, immediate: true)).status == .good)
        #expect(await fixture.run(CDB.synchronizeCache16(lba: UnitFixture.blockCount, blockCount: 1)).asc == .logicalBlockAddressOutOfRange)
        #expect(await fixture.run([0x34, 0, 0, 0, 0, 0, 0, 0, 16, 0]).status == .conditionMet)
        #expect(await fixture.run([0x90, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0]).status == .conditionMet)
        #expect(await fixture.run([0x34, 0, 0xFF, 0, 0, 0, 0, 0, 16, 0]).asc == .logicalBlockAddressOutOfRange)

        let status = await fixture.run([0x9E, 0x12, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 64, 0, 0])
        #expect(status.status == .good)
        let bytes = status.bytes
        #expect(bytes.count == 24)
        #expect(Array(bytes[8..<16]) == [0, 0, 0, 0, 0, 0, 0, 100])
        // The fixture's image is sparse and LBA 100 was never written: a hole, so deallocated.
        #expect(bytes[20] == 1)
        let past = await fixture.run([0x9E, 0x12, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 64, 0, 0])
        #expect(past.asc == .logicalBlockAddressOutOfRange)
    }

    @Test func compareAndWriteReportsTheMiscompareOffset() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let old = fixture.pattern(1, blocks: 2)
        let new = fixture.pattern(2, blocks: 2)
        #expect(await fixture.run(CDB.write10(lba: 50, blockCount: 2), data: old).status == .good)
        #expect(await fixture.run(CDB.compareAndWrite(lba: 50, blockCount: 2), data: old + new).status == .good)
        #expect(await fixture.run(CDB.read10(lba: 50, blockCount: 2)).bytes == new)
        var stale = old
        stale[600] ^= 0x40
        let failed = await fixture.run(CDB.compareAndWrite(lba: 50, blockCount: 2), data: old + new)
        #expect(failed.senseKey == .miscompare)
        #expect(failed.senseData?.miscompareOffset == 0)
        var nearly = new
        nearly[600] ^= 0x40
        let later = await fixture.run(CDB.compareAndWrite(lba: 50, blockCount: 2), data: nearly + old)
        #expect(later.senseData?.miscompareOffset == 600)
        #expect(await fixture.run(CDB.read10(lba: 50, blockCount: 2)).bytes == new)
        #expect(await fixture.run(CDB.compareAndWrite(lba: 50, blockCount: 0)).status == .good)
    }
}
