// BlockDeviceError codes as the initiator sees them (the mapping docs/VSCSI.md lists).

import BlockDevice
import Foundation
import NIOCore
import SCSI
import Testing
@testable import VSCSI

@Suite struct DeviceErrorTests {
    static let cases: [(BlockDeviceError.Code, SCSIStatus, SenseKey?, AdditionalSenseCode?)] = [
        (.outOfRange, .checkCondition, .illegalRequest, .logicalBlockAddressOutOfRange),
        (.readOnly, .checkCondition, .dataProtect, .writeProtected),
        (.mediumError, .checkCondition, .mediumError, .unrecoveredReadError),
        (.reservationConflict, .reservationConflict, nil, nil),
        (.busy, .busy, nil, nil),
        (.transport, .checkCondition, .abortedCommand, .logicalUnitCommunicationFailure),
        (.timeout, .checkCondition, .abortedCommand, .logicalUnitCommunicationFailure),
        (.fenced, .checkCondition, .notReady, .logicalUnitNotReadyManualInterventionRequired),
        (.deviceError, .checkCondition, .hardwareError, .internalTargetFailure),
        (.noSpace, .checkCondition, .dataProtect, .spaceAllocationFailedWriteProtect),
    ]

    @Test(arguments: 0..<10)
    func readFailuresBecomeStatusAndSense(index: Int) async throws {
        let (code, status, key, asc) = Self.cases[index]
        let unit = LogicalUnit(device: FailingBlockDevice(code), identity: LogicalUnitIdentity(uuid: UUID(), name: "failing"))
        let nexus = UnitFixture.a
        _ = await unit.execute(SCSICommandRequest(cdb: CDB.testUnitReady(), expectedDataInLength: 0, nexus: nexus))
        let response = await unit.execute(SCSICommandRequest(cdb: CDB.read10(lba: 0, blockCount: 1), expectedDataInLength: 512, nexus: nexus))
        #expect(response.status == status, "\(code)")
        #expect(response.senseKey == key, "\(code)")
        #expect(response.asc == asc, "\(code)")
        #expect(status == .checkCondition ? !response.sense.isEmpty : response.sense.isEmpty)
    }

    @Test func writeMediumErrorsAndMiscompares() async throws {
        let medium = LogicalUnit(device: FailingBlockDevice(.mediumError), identity: LogicalUnitIdentity(uuid: UUID(), name: "failing"))
        _ = await medium.execute(SCSICommandRequest(cdb: CDB.testUnitReady(), expectedDataInLength: 0, nexus: UnitFixture.a))
        let write = await medium.execute(SCSICommandRequest(
            cdb: CDB.write10(lba: 0, blockCount: 1), dataOut: ByteBuffer(repeating: 1, count: 512), expectedDataInLength: 0, nexus: UnitFixture.a
        ))
        #expect(write.asc == .writeError)
        #expect(LogicalUnit.commandFailure(for: BlockDeviceError(.miscompare, "x", miscompareOffset: 42), writing: true).sense?.information == 42)
    }
}
