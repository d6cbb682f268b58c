// One row of the command table: opcode, service action, CDB usage map and rules.
// REPORT SUPPORTED OPERATION CODES, the CDB checks and docs/VSCSI.md all read it.

import SCSI

/// An implemented command as the table describes it.
struct CommandDescriptor: Sendable {
    let kind: CommandKind
    let operationCode: OperationCode
    /// The service action in CDB byte 1, for opcodes that carry one.
    let serviceAction: UInt8?
    /// CDB USAGE DATA (SPC-5 §6.36.3): byte 0 the opcode, then for each byte the
    /// bits this unit interprets. A set bit outside the map is INVALID FIELD IN CDB.
    let usageMap: [UInt8]
    let access: ReservationAccess
    let rules: CommandRules
    /// RECOMMENDED COMMAND TIMEOUT reported with RCTD, in seconds.
    let recommendedTimeout: UInt32
    /// One line for docs/VSCSI.md.
    let notes: String

    init(
        _ kind: CommandKind,
        _ operationCode: OperationCode,
        serviceAction: UInt8? = nil,
        usage: [UInt8],
        access: ReservationAccess,
        rules: CommandRules = [],
        timeout: UInt32 = 30,
        notes: String
    ) {
        precondition(usage.first == operationCode.rawValue, "usage map of \(operationCode) must start with its opcode")
        self.kind = kind
        self.operationCode = operationCode
        self.serviceAction = serviceAction
        self.usageMap = usage
        self.access = access
        self.rules = rules
        self.recommendedTimeout = timeout
        self.notes = notes
    }

    var cdbLength: Int { usageMap.count }

    var name: String {
        serviceAction.map { operationCode.name(serviceAction: UInt16($0)) } ?? operationCode.name
    }

    /// The first bit set in `cdb` that the usage map does not allow, as (byte, bit).
    /// The service action bits are part of the map, so they always pass.
    func firstUnexpectedBit(in cdb: [UInt8]) -> (byte: Int, bit: UInt8)? {
        for index in 1..<cdbLength {
            let stray = cdb[index] & ~usageMap[index]
            if stray != 0 {
                return (index, UInt8(7 - stray.leadingZeroBitCount))
            }
        }
        return nil
    }
}
