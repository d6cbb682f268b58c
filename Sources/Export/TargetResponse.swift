// The PDUs that end one SCSI task on a target connection: Data-In split at the
// initiator's limits, then status with residuals (RFC 7143 §11.4, §11.7).

import ISCSI
import NIOCore
import SCSI

/// Builds a task's Data-In and status PDUs from its outcome.
enum TargetResponse {
    /// Data-In split at the initiator's MaxRecvDataSegmentLength with F at every
    /// MaxBurstLength sequence end, and status collapsed into the last Data-In when
    /// there is no sense data (RFC 7143 §11.7.4); otherwise a SCSI Response. `statSN`
    /// goes in whichever PDU carries the status.
    static func pdus(
        _ tag: UInt32, _ task: TargetTask, _ outcome: TargetCommandOutcome, parameters: TargetSessionParameters,
        statSN: UInt32, expCmdSN: UInt32, maxCmdSN: UInt32
    ) -> [ISCSIPDU] {
        var pdus: [ISCSIPDU] = []
        let edtl = task.write?.expectedLength ?? task.expectedDataInLength
        let wanted = outcome.transferLength
        let overflow = wanted > edtl
        let underflow = wanted < edtl
        let residual = UInt32(clamping: overflow ? wanted - edtl : edtl - wanted)

        var data = outcome.dataIn
        if data.readableBytes > task.expectedDataInLength {
            data = data.getSlice(at: data.readerIndex, length: task.expectedDataInLength) ?? ByteBuffer()
        }
        let collapse = outcome.status == SCSIStatus.good.rawValue && outcome.sense.isEmpty && data.readableBytes > 0
        let segmentLimit = max(512, parameters.initiatorMaxRecvDataSegmentLength)
        let burst = max(segmentLimit, parameters.maxBurstLength)
        var dataSN: UInt32 = 0
        var offset = 0
        let total = data.readableBytes
        // Bounded: each turn sends at least one byte of `total`.
        while offset < total {
            let sequenceEnd = min(total, (offset / burst + 1) * burst)
            let length = min(segmentLimit, sequenceEnd - offset)
            let slice = data.getSlice(at: data.readerIndex + offset, length: length)!
            let last = offset + length == total
            let status = last && collapse
            pdus.append(.dataIn(DataIn(
                final: offset + length == sequenceEnd,
                residualOverflow: status && overflow,
                residualUnderflow: status && underflow,
                statusPresent: status,
                status: status ? outcome.status : 0,
                lun: task.lun,
                initiatorTaskTag: tag,
                statSN: status ? statSN : 0,
                expCmdSN: expCmdSN,
                maxCmdSN: maxCmdSN,
                dataSN: dataSN,
                bufferOffset: UInt32(offset),
                residualCount: status ? residual : 0,
                data: slice
            )))
            dataSN &+= 1
            offset += length
        }
        guard !collapse else { return pdus }

        var senseSegment = ByteBuffer()
        if !outcome.sense.isEmpty {
            senseSegment.writeInteger(UInt16(outcome.sense.count))
            senseSegment.writeBytes(outcome.sense)
        }
        pdus.append(.scsiResponse(SCSIResponse(
            residualOverflow: overflow,
            residualUnderflow: underflow,
            status: outcome.status,
            initiatorTaskTag: tag,
            statSN: statSN,
            expCmdSN: expCmdSN,
            maxCmdSN: maxCmdSN,
            expDataSN: dataSN,
            residualCount: residual,
            data: senseSegment
        )))
        return pdus
    }
}
