// Every CDB builder against the byte layout SPC-5 and SBC-4 give for it.

import SCSI
import Testing

@Suite struct CDBTests {
    @Test func testUnitReady() {
        #expect(CDB.testUnitReady() == [0x00, 0, 0, 0, 0, 0])
    }

    @Test func standardInquiry() {
        #expect(CDB.inquiry(allocationLength: 96) == [0x12, 0x00, 0x00, 0x00, 0x60, 0x00])
        #expect(CDB.inquiry(allocationLength: 0x1234) == [0x12, 0x00, 0x00, 0x12, 0x34, 0x00])
    }

    @Test(arguments: [
        (VitalProductDataPage.supportedPages, UInt8(0x00)),
        (.unitSerialNumber, 0x80),
        (.deviceIdentification, 0x83),
        (.blockLimits, 0xB0),
        (.blockDeviceCharacteristics, 0xB1),
        (.logicalBlockProvisioning, 0xB2),
    ])
    func vitalProductDataInquiry(page: VitalProductDataPage, code: UInt8) {
        #expect(CDB.inquiry(page: page, allocationLength: 0x0200) == [0x12, 0x01, code, 0x02, 0x00, 0x00])
    }

    @Test func readCapacity() {
        #expect(CDB.readCapacity10() == [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(CDB.readCapacity16() == [0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0])
    }

    @Test func reportLUNs() {
        #expect(CDB.reportLUNs(allocationLength: 0x0001_0010) == [0xA0, 0, 0x00, 0, 0, 0, 0x00, 0x01, 0x00, 0x10, 0, 0])
        #expect(CDB.reportLUNs(selectReport: 0x02, allocationLength: 16)[2] == 0x02)
    }

    @Test func read10AndWrite10() {
        #expect(
            CDB.read10(lba: 0x0102_0304, blockCount: 0x0506)
                == [0x28, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x05, 0x06, 0x00]
        )
        #expect(
            CDB.write10(lba: 0xFFFF_FFFF, blockCount: 8, fua: true, dpo: true)
                == [0x2A, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x08, 0x00]
        )
        #expect(CDB.read10(lba: 0, blockCount: 1, fua: true)[1] == 0x08)
        #expect(CDB.write10(lba: 0, blockCount: 1, dpo: true)[1] == 0x10)
    }

    @Test func read16AndWrite16() {
        #expect(
            CDB.read16(lba: 0x0102_0304_0506_0708, blockCount: 0x090A_0B0C)
                == [0x88, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x00, 0x00]
        )
        #expect(
            CDB.write16(lba: 0x1_0000_0000, blockCount: 256, fua: true)
                == [0x8A, 0x08, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0, 0]
        )
        #expect(CDB.write16(lba: 0, blockCount: 1, fua: true, dpo: true)[1] == 0x18)
    }

    @Test func compareAndWrite() {
        #expect(
            CDB.compareAndWrite(lba: 0x0000_0000_0000_1000, blockCount: 1, fua: true)
                == [0x89, 0x08, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0, 0, 0, 0x01, 0, 0]
        )
        #expect(CDB.compareAndWrite(lba: 7, blockCount: 255)[13] == 0xFF)
    }

    @Test func synchronizeCache() {
        #expect(CDB.synchronizeCache10() == [0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(
            CDB.synchronizeCache10(lba: 0x10, blockCount: 0x20, immediate: true)
                == [0x35, 0x02, 0, 0, 0, 0x10, 0, 0, 0x20, 0]
        )
        #expect(
            CDB.synchronizeCache16(lba: 0xAABB, blockCount: 0x0100_0000, immediate: true)
                == [0x91, 0x02, 0, 0, 0, 0, 0, 0, 0xAA, 0xBB, 0x01, 0, 0, 0, 0, 0]
        )
    }

    @Test func writeSame16() {
        #expect(
            CDB.writeSame16(lba: 0x40, blockCount: 0x800, unmap: true)
                == [0x93, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0x08, 0x00, 0, 0]
        )
        #expect(CDB.writeSame16(lba: 0, blockCount: 1, anchor: true)[1] == 0x10)
        #expect(CDB.writeSame16(lba: 0, blockCount: 1, noDataOutBuffer: true)[1] == 0x01)
        #expect(CDB.writeSame16(lba: 0, blockCount: 1, unmap: true, anchor: true, noDataOutBuffer: true)[1] == 0x19)
    }

    @Test func unmapCDBAndParameterList() {
        let (cdb, list) = CDB.unmap([
            UnmapBlockDescriptor(lba: 0x0102_0304_0506_0708, blockCount: 0x0A0B_0C0D),
            UnmapBlockDescriptor(lba: 0x100, blockCount: 8),
        ])
        #expect(cdb == [0x42, 0x00, 0, 0, 0, 0, 0, 0x00, 0x28, 0x00])
        #expect(list == [
            0x00, 0x26, 0x00, 0x20, 0, 0, 0, 0,
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0A, 0x0B, 0x0C, 0x0D, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0x01, 0x00, 0, 0, 0, 0x08, 0, 0, 0, 0,
        ])
        #expect(CDB.unmap(parameterListLength: 24, anchor: true) == [0x42, 0x01, 0, 0, 0, 0, 0, 0x00, 0x18, 0x00])
        #expect(CDB.unmapParameterList([]) == [0x00, 0x06, 0x00, 0x00, 0, 0, 0, 0])
        #expect(CDB.maximumUnmapDescriptors == 4095)
    }

    @Test func persistentReserveIn() {
        #expect(
            CDB.persistentReserveIn(.readKeys, allocationLength: 0x1000)
                == [0x5E, 0x00, 0, 0, 0, 0, 0, 0x10, 0x00, 0]
        )
        #expect(CDB.persistentReserveIn(.readReservation, allocationLength: 24)[1] == 0x01)
        #expect(CDB.persistentReserveIn(.reportCapabilities, allocationLength: 8)[1] == 0x02)
        #expect(CDB.persistentReserveIn(.readFullStatus)[1] == 0x03)
    }

    @Test func persistentReserveOutRegister() {
        let (cdb, list) = CDB.persistentReserveOut(.register(existingKey: 0, newKey: 0x1122_3344_5566_7788))
        #expect(cdb == [0x5F, 0x00, 0x00, 0, 0, 0x00, 0x00, 0x00, 0x18, 0x00])
        #expect(list == [
            0, 0, 0, 0, 0, 0, 0, 0,
            0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
            0, 0, 0, 0, 0, 0, 0, 0,
        ])
    }

    @Test func persistentReserveOutReserveAndPreempt() {
        let reserve = CDB.persistentReserveOut(.reserve(key: 0xAB, type: .writeExclusive))
        #expect(reserve.cdb == [0x5F, 0x01, 0x01, 0, 0, 0, 0, 0, 0x18, 0])
        #expect(reserve.parameterList == [0, 0, 0, 0, 0, 0, 0, 0xAB] + [UInt8](repeating: 0, count: 16))

        let preempt = CDB.persistentReserveOut(
            .preempt(key: 0x01, victimKey: 0x02, type: .exclusiveAccessRegistrantsOnly, abort: true)
        )
        #expect(preempt.cdb == [0x5F, 0x05, 0x06, 0, 0, 0, 0, 0, 0x18, 0])
        #expect(preempt.parameterList[7] == 0x01)
        #expect(preempt.parameterList[15] == 0x02)

        let release = CDB.persistentReserveOut(.release(key: 9, type: .exclusiveAccessAllRegistrants))
        #expect(release.cdb[1] == 0x02 && release.cdb[2] == 0x08)
        let clear = CDB.persistentReserveOut(.clear(key: 9))
        #expect(clear.cdb[1] == 0x03 && clear.cdb[2] == 0x00)
        #expect(clear.parameterList[7] == 9)

        let ignore = CDB.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: 0x55))
        #expect(ignore.cdb[1] == 0x06)
        #expect(ignore.parameterList[0..<8].allSatisfy { $0 == 0 })
        #expect(ignore.parameterList[15] == 0x55)
    }

    @Test func reportSupportedOperationCodes() {
        #expect(
            CDB.reportSupportedOperationCodes(allocationLength: 0x2000)
                == [0xA3, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00]
        )
        #expect(CDB.reportSupportedOperationCodes(includeTimeouts: true, allocationLength: 8)[2] == 0x80)
        #expect(
            CDB.reportSupportedOperationCode(0x89, allocationLength: 0x20)
                == [0xA3, 0x0C, 0x01, 0x89, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00]
        )
        #expect(
            CDB.reportSupportedOperationCode(0x9E, serviceAction: 0x10, includeTimeouts: true, allocationLength: 0x20)
                == [0xA3, 0x0C, 0x82, 0x9E, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00]
        )
    }

    @Test func modeSense10() {
        #expect(
            CDB.modeSense10(page: 0x08, allocationLength: 0x00FC)
                == [0x5A, 0x08, 0x08, 0x00, 0, 0, 0, 0x00, 0xFC, 0]
        )
        #expect(
            CDB.modeSense10(
                page: CDB.allModePages,
                subpage: 0xFF,
                pageControl: .changeable,
                disableBlockDescriptors: false,
                longLBAAccepted: true,
                allocationLength: 0x1000
            ) == [0x5A, 0x10, 0x7F, 0xFF, 0, 0, 0, 0x10, 0x00, 0]
        )
        #expect(CDB.modeSense10(page: 0x0A, pageControl: .default)[2] == 0x8A)
        #expect(CDB.modeSense10(page: 0x0A, pageControl: .saved)[2] == 0xCA)
    }

    @Test func commandNamesFromCDBs() {
        #expect(OperationCode.commandName(of: CDB.readCapacity16()) == "READ CAPACITY(16)")
        #expect(OperationCode.commandName(of: CDB.write16(lba: 0, blockCount: 1)) == "WRITE(16)")
        #expect(OperationCode.commandName(of: CDB.reportSupportedOperationCodes()) == "REPORT SUPPORTED OPERATION CODES")
        #expect(
            OperationCode.commandName(of: CDB.persistentReserveIn(.readKeys)) == "PERSISTENT RESERVE IN (READ KEYS)"
        )
        #expect(
            OperationCode.commandName(of: CDB.persistentReserveOut(.clear(key: 1)).cdb)
                == "PERSISTENT RESERVE OUT (CLEAR)"
        )
        #expect(OperationCode.commandName(of: [0xC5, 0, 0, 0, 0, 0]) == "OPERATION CODE 0xC5")
        #expect(OperationCode.commandName(of: [0x9E, 0x1F]) == "SERVICE ACTION IN(16) (service action 0x1F)")
        #expect(OperationCode.commandName(of: []) == "empty CDB")
    }

    @Test func operationCodesAreDistinctAndNamed() {
        let names = OperationCode.allCases.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(OperationCode(rawValue: 0x89) == .compareAndWrite)
        #expect(OperationCode.synchronizeCache16.description == "SYNCHRONIZE CACHE(16)")
    }
}
