// Status and sense to BlockDeviceError code, the one table both initiator engines use,
// checked on built sense data so every row is covered without a target that can
// produce it (BUSY, DATA PROTECT, MEDIUM ERROR, a real miscompare offset).

import BlockDevice
import SCSI
import Testing

@Suite("SCSI failure mapping")
struct SCSIFailureMappingTests {
    /// Fixed-format sense (SPC-5 §4.4.3) with VALID set and `information`.
    static func sense(key: UInt8, asc: UInt8, ascq: UInt8, information: UInt32 = 0) -> SenseData {
        var bytes: [UInt8] = [0xF0, 0, key, 0, 0, 0, 0, 10, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0]
        bytes[3] = UInt8(information >> 24)
        bytes[4] = UInt8(information >> 16 & 0xFF)
        bytes[5] = UInt8(information >> 8 & 0xFF)
        bytes[6] = UInt8(information & 0xFF)
        return try! SenseData(parsing: bytes)
    }

    static let write16 = CDB.write16(lba: 0, blockCount: 1)

    static let rows: [(SCSIStatus, SenseData?, [UInt8], BlockDeviceError.Code)] = [
        (.reservationConflict, nil, write16, .reservationConflict),
        (.busy, nil, write16, .busy),
        (.taskSetFull, nil, write16, .busy),
        (.checkCondition, sense(key: 0x07, asc: 0x27, ascq: 0), write16, .readOnly),
        (.checkCondition, sense(key: 0x07, asc: 0x27, ascq: 0x07), write16, .noSpace),
        (.checkCondition, sense(key: 0x03, asc: 0x11, ascq: 0), CDB.read16(lba: 0, blockCount: 1), .mediumError),
        (.checkCondition, sense(key: 0x05, asc: 0x21, ascq: 0), write16, .outOfRange),
        (.checkCondition, sense(key: 0x05, asc: 0x20, ascq: 0), [0xFE, 0, 0, 0, 0, 0], .notSupported),
        (.checkCondition, sense(key: 0x05, asc: 0x24, ascq: 0), CDB.writeSame16(lba: 0, blockCount: 1), .notSupported),
        (.checkCondition, sense(key: 0x05, asc: 0x24, ascq: 0), write16, .deviceError),
        (.checkCondition, sense(key: 0x04, asc: 0x44, ascq: 0), write16, .deviceError),
        (.checkCondition, nil, write16, .deviceError),
    ]

    @Test(arguments: rows.indices)
    func statusAndSenseChooseTheCode(row: Int) {
        let (status, sense, cdb, code) = Self.rows[row]
        let failure = SCSICommandError(cdb: cdb, status: status, sense: sense)
        let error = BlockDeviceError(failure, cdb: cdb, object: "TEST on LUN 0")
        #expect(error.code == code, "\(failure)")
        #expect(error.underlying as? SCSICommandError == failure)
        #expect(error.message.contains("TEST on LUN 0"))
    }

    @Test func miscompareCarriesTheOffsetFromSense() {
        let cdb = CDB.compareAndWrite(lba: 7, blockCount: 1)
        let failure = SCSICommandError(cdb: cdb, status: .checkCondition, sense: Self.sense(key: 0x0E, asc: 0x1D, ascq: 0, information: 100))
        let error = BlockDeviceError(failure, cdb: cdb, object: "COMPARE AND WRITE on LUN 0")
        #expect(error.code == .miscompare)
        #expect(error.miscompareOffset == 100)
    }
}
