// Plans a write's data-out phase: immediate data, unsolicited Data-Out, then R2T-driven bursts (RFC 7143 §3.2.4.2, §11.8).

/// The data-out plan of one write command.
///
/// Immediate data rides in the SCSI Command PDU when ImmediateData=Yes; more
/// unsolicited data follows in Data-Out PDUs up to FirstBurstLength when
/// InitialR2T=No; the target asks for the rest with R2Ts.
public struct WriteTransfer: Sendable, Equatable {
    public let totalLength: Int
    /// Bytes carried inside the SCSI Command PDU.
    public let immediateLength: Int
    /// Where unsolicited data ends (immediate plus unsolicited Data-Out).
    public let unsolicitedEnd: Int
    private let limits: TransferLimits
    private var lastR2TSN: UInt32?

    public init(totalLength: Int, limits: TransferLimits) {
        self.totalLength = totalLength
        self.limits = limits
        let firstBurst = min(totalLength, limits.firstBurstLength)
        let immediate = limits.immediateData ? min(firstBurst, limits.maxSendDataSegmentLength) : 0
        self.immediateLength = immediate
        self.unsolicitedEnd = limits.initialR2T ? immediate : firstBurst
    }

    /// The SCSI Command's F bit: set when no unsolicited Data-Out follows it.
    public var commandIsFinal: Bool { unsolicitedEnd == immediateLength }

    /// The unsolicited Data-Out PDUs to send right after the command.
    public var unsolicitedSegments: DataOutSequence {
        DataOutSequence(
            offset: immediateLength,
            length: unsolicitedEnd - immediateLength,
            maxSegment: limits.maxSendDataSegmentLength,
            targetTransferTag: reservedTag
        )
    }

    /// Checks an R2T against the write and returns the Data-Out PDUs that answer it.
    public mutating func answer(_ r2t: ReadyToTransfer) throws(ISCSIError) -> DataOutSequence {
        let offset = Int(r2t.bufferOffset)
        let length = Int(r2t.desiredDataTransferLength)
        guard length > 0 else {
            throw ISCSIError(
                .protocolViolation,
                scope: .connection,
                "R2T for task 0x\(String(r2t.initiatorTaskTag, radix: 16)) asks for 0 bytes"
            )
        }
        guard offset + length <= totalLength else {
            throw ISCSIError(
                .protocolViolation,
                scope: .connection,
                "R2T for task 0x\(String(r2t.initiatorTaskTag, radix: 16)) asks for bytes \(offset)..<\(offset + length) of a \(totalLength)-byte write"
            )
        }
        guard length <= limits.maxBurstLength else {
            throw ISCSIError(
                .protocolViolation,
                scope: .connection,
                "R2T for task 0x\(String(r2t.initiatorTaskTag, radix: 16)) asks for \(length) bytes, more than MaxBurstLength \(limits.maxBurstLength)"
            )
        }
        if let lastR2TSN, !(SerialNumber(lastR2TSN) < SerialNumber(r2t.r2tSN)) {
            throw ISCSIError(
                .protocolViolation,
                scope: .connection,
                "R2T for task 0x\(String(r2t.initiatorTaskTag, radix: 16)) has R2TSN \(r2t.r2tSN) after \(lastR2TSN)"
            )
        }
        lastR2TSN = r2t.r2tSN
        return DataOutSequence(
            offset: offset,
            length: length,
            maxSegment: limits.maxSendDataSegmentLength,
            targetTransferTag: r2t.targetTransferTag
        )
    }
}
