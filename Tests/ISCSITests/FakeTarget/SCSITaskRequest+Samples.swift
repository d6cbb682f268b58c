// The few SCSI commands the fake-target tests send; their CDBs only need to be recognisable.

import ISCSI

extension SCSITaskRequest {
    /// TEST UNIT READY: no data either way.
    static func testUnitReady(lun: UInt64 = 0) -> SCSITaskRequest {
        SCSITaskRequest(lun: lun, cdb: [0x00, 0, 0, 0, 0, 0], operationName: "TEST UNIT READY")
    }

    /// READ(10) of `blocks` 512-byte blocks from LBA 0.
    static func read(blocks: Int, lun: UInt64 = 0) -> SCSITaskRequest {
        SCSITaskRequest(
            lun: lun,
            cdb: [0x28, 0, 0, 0, 0, 0, 0, UInt8(blocks >> 8), UInt8(blocks & 0xFF), 0],
            expectedDataInLength: blocks * 512,
            operationName: "READ(10)"
        )
    }

    /// A vendor-specific opcode (0xC1) that the reject tests have the target refuse.
    static let vendorCommand = SCSITaskRequest(lun: 0, cdb: [0xC1, 0, 0, 0, 0, 0], operationName: "VENDOR 0xC1")
}
