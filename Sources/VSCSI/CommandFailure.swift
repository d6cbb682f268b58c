// How a command ends when it does not end in GOOD: a status and, for CHECK
// CONDITION, the sense it reports. Thrown inside the logical unit only.

import SCSI

/// A command's failure, as the status and sense the initiator will see.
struct CommandFailure: Error, Sendable {
    var status: SCSIStatus
    var sense: SenseData?

    init(status: SCSIStatus, sense: SenseData? = nil) {
        self.status = status
        self.sense = sense
    }

    static func check(
        _ key: SenseKey, _ code: AdditionalSenseCode, information: UInt64? = nil, specific: SenseKeySpecific? = nil
    ) -> CommandFailure {
        CommandFailure(
            status: .checkCondition,
            sense: SenseData(senseKey: key, additionalSenseCode: code, information: information, senseKeySpecific: specific)
        )
    }

    static let invalidOperationCode = check(.illegalRequest, .invalidCommandOperationCode)
    static let lbaOutOfRange = check(.illegalRequest, .logicalBlockAddressOutOfRange)
    static let parameterListLengthError = check(.illegalRequest, .parameterListLengthError)
    static let writeProtected = check(.dataProtect, .writeProtected)
    static let reservationConflict = CommandFailure(status: .reservationConflict)
    static let taskAborted = CommandFailure(status: .taskAborted)
    static let busy = CommandFailure(status: .busy)

    /// INVALID FIELD IN CDB pointing at `byte` (and `bit`, the field's most significant bit).
    static func invalidFieldInCDB(byte: Int, bit: UInt8? = nil) -> CommandFailure {
        check(.illegalRequest, .invalidFieldInCDB, specific: .fieldPointer(inCDB: true, byte: UInt16(clamping: byte), bit: bit))
    }

    /// INVALID FIELD IN PARAMETER LIST pointing at `byte` of the parameter list.
    static func invalidFieldInParameterList(byte: Int, bit: UInt8? = nil) -> CommandFailure {
        check(.illegalRequest, .invalidFieldInParameterList, specific: .fieldPointer(inCDB: false, byte: UInt16(clamping: byte), bit: bit))
    }

    /// MISCOMPARE DURING VERIFY OPERATION, INFORMATION holding the offset of the first differing byte.
    static func miscompare(offset: Int) -> CommandFailure {
        check(.miscompare, .miscompareDuringVerifyOperation, information: UInt64(offset))
    }
}
