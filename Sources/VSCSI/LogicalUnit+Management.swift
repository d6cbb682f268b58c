// TEST UNIT READY, REQUEST SENSE, START STOP UNIT, REPORT LUNS and READ DEFECT DATA.

import NIOCore
import SCSI

extension LogicalUnit {
    func testUnitReady(_ context: CommandContext) throws -> CommandResult {
        let (stopped, sanitize) = state.withLockedValue { ($0.stopped, $0.sanitize) }
        if stopped { throw CommandFailure.check(.notReady, .logicalUnitNotReadyInitializingCommandRequired) }
        if sanitize == .failed { throw CommandFailure.check(.mediumError, .sanitizeCommandFailed) }
        return .good
    }

    /// REQUEST SENSE (SPC-5 §6.39): a pending unit attention (which this clears), else
    /// the sanitize progress or a stopped unit, else NO SENSE.
    func requestSense(_ context: CommandContext) -> CommandResult {
        let descriptorFormat = context.cdb[1] & 0x01 != 0
        let allocationLength = Int(context.cdb[4])
        let sense: SenseData = state.withLockedValue { state in
            if let code = state.popUnitAttention(for: context.nexus) {
                return SenseData(senseKey: .unitAttention, additionalSenseCode: code)
            }
            switch state.sanitize {
            case .running(let progress):
                return SenseData(
                    senseKey: .notReady, additionalSenseCode: .logicalUnitNotReadySanitizeInProgress,
                    senseKeySpecific: .progressIndication(progress)
                )
            case .failed:
                return SenseData(senseKey: .mediumError, additionalSenseCode: .sanitizeCommandFailed)
            case .idle:
                break
            }
            if state.stopped {
                return SenseData(senseKey: .notReady, additionalSenseCode: .logicalUnitNotReadyInitializingCommandRequired)
            }
            return SenseData(senseKey: .noSense, additionalSenseCode: .noAdditionalSenseInformation)
        }
        return .data(sense.encoded(as: descriptorFormat ? .descriptor : .fixed), allocationLength: allocationLength)
    }

    func startStopUnit(_ context: CommandContext) async throws -> CommandResult {
        let byte4 = context.cdb[4]
        // Only START_VALID: power conditions are not emulated.
        if byte4 >> 4 != 0 { throw CommandFailure.invalidFieldInCDB(byte: 4, bit: 7) }
        if context.cdb[3] & 0x0F != 0 { throw CommandFailure.invalidFieldInCDB(byte: 3, bit: 3) }
        let start = byte4 & 0x01 != 0
        let noFlush = byte4 & 0x04 != 0
        if !start && !noFlush {
            try await device.flush()
        }
        state.withLockedValue { $0.stopped = !start }
        return .good
    }

    func reportLUNs(_ context: CommandContext) throws -> CommandResult {
        let allocationLength = Int(context.cdb.uint32(6))
        // SPC-4: an allocation length under 16 is refused.
        if allocationLength < 16 { throw CommandFailure.invalidFieldInCDB(byte: 6) }
        let luns: [LUN]
        switch context.cdb[2] {
        case 0x00, 0x02: luns = reportedLUNs()
        case 0x01: luns = []  // no well-known logical units
        default: throw CommandFailure.invalidFieldInCDB(byte: 2)
        }
        return .data(ReportLUNsData(luns: luns).encoded(), allocationLength: allocationLength)
    }

    /// Both lists are empty; the header echoes the lists and format asked for.
    func readDefectData(_ context: CommandContext) -> CommandResult {
        let cdb = context.cdb
        if context.descriptor.kind == .readDefectData10 {
            let data: [UInt8] = [0, cdb[2] & 0x1F, 0, 0]
            return .data(data, allocationLength: Int(cdb.uint16(7)))
        }
        let data: [UInt8] = [0, cdb[1] & 0x1F, 0, 0, 0, 0, 0, 0]
        return .data(data, allocationLength: Int(cdb.uint32(6)))
    }
}
