// Status names, the ASC/ASCQ table, and how command and parse errors read.

import SCSI
import Testing

@Suite struct StatusAndErrorTests {
    @Test func statusNames() {
        #expect(SCSIStatus.good.name == "GOOD")
        #expect(SCSIStatus.checkCondition.name == "CHECK CONDITION")
        #expect(SCSIStatus.conditionMet.name == "CONDITION MET")
        #expect(SCSIStatus.busy.name == "BUSY")
        #expect(SCSIStatus.reservationConflict.name == "RESERVATION CONFLICT")
        #expect(SCSIStatus.taskSetFull.name == "TASK SET FULL")
        #expect(SCSIStatus.acaActive.name == "ACA ACTIVE")
        #expect(SCSIStatus.taskAborted.name == "TASK ABORTED")
        #expect(SCSIStatus.allAssigned.map(\.rawValue) == [0x00, 0x02, 0x04, 0x08, 0x18, 0x28, 0x30, 0x40])
    }

    @Test func unknownStatusStaysRepresentable() {
        let odd = SCSIStatus(rawValue: 0x22)
        #expect(odd.name == "STATUS 0x22")
        #expect(odd != .good)
        #expect(!odd.isSuccess)
        #expect(SCSIStatus(rawValue: 0x18) == .reservationConflict)
        #expect(SCSIStatus.conditionMet.isSuccess)
    }

    @Test func senseKeyNames() {
        #expect(SenseKey.allCases.count == 16)
        #expect(SenseKey(lowNibbleOf: 0xF5) == .illegalRequest)
        #expect(SenseKey.dataProtect.name == "DATA PROTECT")
        #expect(SenseKey.unitAttention.description == "UNIT ATTENTION")
        #expect(Set(SenseKey.allCases.map(\.name)).count == 16)
    }

    @Test func assignmentTableHasNoDuplicateKeys() {
        let known = AdditionalSenseCode.allKnown
        #expect(Set(known.map(\.combined)).count == known.count)
        #expect(known.count >= 150)
        #expect(known.allSatisfy { $0.isKnown })
    }

    @Test func assignmentTableCoversTheCodesThatMatter() {
        let expected: [(AdditionalSenseCode, String)] = [
            (.logicalBlockAddressOutOfRange, "LOGICAL BLOCK ADDRESS OUT OF RANGE"),
            (.invalidCommandOperationCode, "INVALID COMMAND OPERATION CODE"),
            (.invalidFieldInCDB, "INVALID FIELD IN CDB"),
            (.invalidFieldInParameterList, "INVALID FIELD IN PARAMETER LIST"),
            (.parameterListLengthError, "PARAMETER LIST LENGTH ERROR"),
            (.writeProtected, "WRITE PROTECTED"),
            (.mediumNotPresent, "MEDIUM NOT PRESENT"),
            (.logicalUnitNotReadyCauseNotReportable, "LOGICAL UNIT NOT READY, CAUSE NOT REPORTABLE"),
            (.powerOnResetOrBusDeviceResetOccurred, "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED"),
            (.parametersChanged, "PARAMETERS CHANGED"),
            (.capacityDataHasChanged, "CAPACITY DATA HAS CHANGED"),
            (.reservationsPreempted, "RESERVATIONS PREEMPTED"),
            (.reservationsReleased, "RESERVATIONS RELEASED"),
            (.registrationsPreempted, "REGISTRATIONS PREEMPTED"),
            (.miscompareDuringVerifyOperation, "MISCOMPARE DURING VERIFY OPERATION"),
            (.unrecoveredReadError, "UNRECOVERED READ ERROR"),
            (.writeError, "WRITE ERROR"),
            (.logicalUnitNotSupported, "LOGICAL UNIT NOT SUPPORTED"),
            (.thinProvisioningSoftThresholdReached, "THIN PROVISIONING SOFT THRESHOLD REACHED"),
            (.spaceAllocationFailedWriteProtect, "SPACE ALLOCATION FAILED WRITE PROTECT"),
            (.internalTargetFailure, "INTERNAL TARGET FAILURE"),
            (.commandSequenceError, "COMMAND SEQUENCE ERROR"),
            (.insufficientResources, "INSUFFICIENT RESOURCES"),
            (.insufficientRegistrationResources, "INSUFFICIENT REGISTRATION RESOURCES"),
            (.protocolServiceCRCError, "PROTOCOL SERVICE CRC ERROR"),
            (.someCommandsClearedByISCSIProtocolEvent, "SOME COMMANDS CLEARED BY ISCSI PROTOCOL EVENT"),
            (.dataPhaseError, "DATA PHASE ERROR"),
            (.tooMuchWriteData, "TOO MUCH WRITE DATA"),
            (.connectionLost, "CONNECTION LOST"),
        ]
        for (code, name) in expected {
            #expect(code.name == name)
        }
    }

    @Test func fallbackNamesForUnknownCodes() {
        #expect(AdditionalSenseCode(asc: 0x7E, ascq: 0x00).name == "UNKNOWN ADDITIONAL SENSE CODE")
        #expect(AdditionalSenseCode(asc: 0x7E, ascq: 0x00).isKnown == false)
        #expect(AdditionalSenseCode(asc: 0x85, ascq: 0x01).name == "VENDOR SPECIFIC ADDITIONAL SENSE CODE")
        #expect(AdditionalSenseCode(asc: 0x21, ascq: 0x90).name == "VENDOR SPECIFIC QUALIFIER OF ASC 0x21")
        #expect(AdditionalSenseCode(asc: 0x40, ascq: 0x81).name == "DIAGNOSTIC FAILURE ON COMPONENT 0x81")
        #expect(AdditionalSenseCode(asc: 0x4D, ascq: 0x07).name == "TAGGED OVERLAPPED COMMANDS (TASK TAG 0x07)")
        #expect(
            AdditionalSenseCode(asc: 0x7E, ascq: 0x01).description == "UNKNOWN ADDITIONAL SENSE CODE (ASC 0x7E, ASCQ 0x01)"
        )
    }

    @Test func commandErrorDescription() {
        let error = SCSICommandError(
            cdb: CDB.write16(lba: 0, blockCount: 1),
            status: .checkCondition,
            sense: SenseData(senseKey: .dataProtect, additionalSenseCode: .writeProtected)
        )
        #expect(error.description == "WRITE(16) failed: CHECK CONDITION, DATA PROTECT: WRITE PROTECTED (ASC 0x27, ASCQ 0x00)")
        #expect(error.senseKey == .dataProtect)
        #expect(!error.isUnitAttention)

        let conflict = SCSICommandError(operation: "PERSISTENT RESERVE OUT (RESERVE)", status: .reservationConflict)
        #expect(conflict.description == "PERSISTENT RESERVE OUT (RESERVE) failed: RESERVATION CONFLICT")

        let attention = SCSICommandError(
            cdb: CDB.readCapacity16(),
            status: .checkCondition,
            sense: SenseData(senseKey: .unitAttention, additionalSenseCode: .capacityDataHasChanged)
        )
        #expect(attention.isUnitAttention)
        #expect(attention.description.hasPrefix("READ CAPACITY(16) failed: CHECK CONDITION, UNIT ATTENTION: CAPACITY DATA HAS CHANGED"))
    }

    @Test func parseErrorNamesStructureAndSizes() throws {
        let error = try #require(throws: SCSIParseError.self) {
            try ReadCapacity16Data(parsing: [0, 0, 0, 0])
        }
        #expect(error.code == .truncated)
        #expect(error.structure == "READ CAPACITY(16) data")
        #expect(error.neededBytes == 16)
        #expect(error.availableBytes == 4)
        #expect(error.description == "cannot parse READ CAPACITY(16) data: needs 16 bytes but only 4 arrived")
    }
}
