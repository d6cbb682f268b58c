// REPORT SUPPORTED OPERATION CODES and REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS
// (SPC-5 §6.36-6.37), both answered from the command table.

import NIOCore
import SCSI

extension LogicalUnit {
    /// The table rows this unit offers (UNMAP only when thin).
    var offeredCommands: [CommandDescriptor] {
        CommandTable.all.filter { isThin || !$0.rules.contains(.thinOnly) }
    }

    func reportSupportedOperationCodes(_ context: CommandContext) throws -> CommandResult {
        let cdb = context.cdb
        let withTimeouts = cdb[2] & 0x80 != 0
        let options = cdb[2] & 0x07
        let requestedCode = cdb[3]
        let requestedAction = cdb.uint16(4)
        let allocationLength = Int(cdb.uint32(6))
        let offered = offeredCommands

        if options == 0 {
            var data = [UInt8](repeating: 0, count: 4)
            for command in offered {
                var entry = [UInt8](repeating: 0, count: 8)
                entry[0] = command.operationCode.rawValue
                entry.put(UInt16(command.serviceAction ?? 0), at: 2)
                entry[5] = (withTimeouts ? 0x02 : 0) | (command.serviceAction == nil ? 0 : 0x01)
                entry.put(UInt16(command.cdbLength), at: 6)
                data += entry
                if withTimeouts { data += timeoutsDescriptor(command) }
            }
            data.put(UInt32(data.count - 4), at: 0)
            return .data(data, allocationLength: allocationLength)
        }

        let hasServiceActions = CommandTable.serviceActionOpcodes.contains(requestedCode)
        let match: CommandDescriptor?
        switch options {
        case 0b001:
            // One opcode without a service action; asking so for one that has them is an error.
            if hasServiceActions { throw CommandFailure.invalidFieldInCDB(byte: 2, bit: 2) }
            match = offered.first { $0.operationCode.rawValue == requestedCode }
        case 0b010:
            if !hasServiceActions && OperationCode(rawValue: requestedCode)?.hasServiceAction != true {
                throw CommandFailure.invalidFieldInCDB(byte: 2, bit: 2)
            }
            match = offered.first { $0.operationCode.rawValue == requestedCode && UInt16($0.serviceAction ?? 0) == requestedAction }
        case 0b011:
            match = offered.first {
                $0.operationCode.rawValue == requestedCode
                    && ($0.serviceAction == nil || UInt16($0.serviceAction ?? 0) == requestedAction)
            }
        default:
            throw CommandFailure.invalidFieldInCDB(byte: 2, bit: 2)
        }
        guard let match else {
            // SUPPORT 001b: not supported; no usage data follows.
            return .data([0, 0x01, 0, 0], allocationLength: allocationLength)
        }
        var data: [UInt8] = [0, (withTimeouts ? 0x80 : 0) | 0x03, 0, 0]
        data.put(UInt16(match.cdbLength), at: 2)
        data += match.usageMap
        if withTimeouts { data += timeoutsDescriptor(match) }
        return .data(data, allocationLength: allocationLength)
    }

    private func timeoutsDescriptor(_ command: CommandDescriptor) -> [UInt8] {
        var descriptor = [UInt8](repeating: 0, count: 12)
        descriptor.put(UInt16(0x0A), at: 0)
        descriptor.put(command.recommendedTimeout, at: 8)
        return descriptor
    }

    /// ABORT TASK, ABORT TASK SET, LOGICAL UNIT RESET and TARGET RESET: what the export
    /// passes on to `abortTaskSet(nexus:)` and `reset(kind:)`.
    func reportSupportedTaskManagementFunctions(_ context: CommandContext) throws -> CommandResult {
        let allocationLength = Int(context.cdb.uint32(6))
        if allocationLength < 4 { throw CommandFailure.invalidFieldInCDB(byte: 6) }
        let extended = context.cdb[2] & 0x80 != 0
        // ATS, ATSS, LURS, TRS.
        var data: [UInt8] = [0xCA, 0, 0, 0]
        if extended {
            data[3] = 0x0C
            data += [UInt8](repeating: 0, count: 12)
        }
        return .data(data, allocationLength: allocationLength)
    }
}
