// Fitting a write's CDB to the Data-Out the initiator actually sent: with an EDTL short
// of the CDB's transfer length only the whole blocks that arrived are written, with a
// longer one only what the CDB names (RFC 7143 §11.4.5.1). COMPARE AND WRITE cannot be
// cut, so a mismatch there is refused (SBC-4 §5.3).

import NIOCore
import SCSI

extension SCSICommandRequest {
    /// The writes whose TRANSFER LENGTH counts Data-Out blocks and can be rewritten in
    /// place. WRITE(6) is left out: its length 0 means 256 blocks, so no count is "fewer".
    private static let fittedKinds: Set<CommandKind> = [
        .write10, .write12, .write16, .writeAndVerify10, .writeAndVerify12, .writeAndVerify16,
    ]

    /// How this request must change, or be answered at once, before a unit with blocks of
    /// `blockSize` bytes runs it.
    public func fittingDataOut(blockSize: Int) -> DataOutFit {
        guard blockSize > 0, let first = cdb.first else { return .unchanged }
        if first == OperationCode.compareAndWrite.rawValue, cdb.count >= 14,
            dataOut.readableBytes != 2 * Int(cdb[13]) * blockSize
        {
            // The Data-Out of COMPARE AND WRITE is exactly twice the blocks it names; anything
            // else cannot be compared, so the count in byte 13 is refused.
            let sense = SenseData(
                senseKey: .illegalRequest, additionalSenseCode: .invalidFieldInCDB,
                senseKeySpecific: .fieldPointer(inCDB: true, byte: 13, bit: nil)
            )
            return .refused(SCSICommandResponse(status: .checkCondition, sense: sense.encoded(as: .fixed), transferLength: dataOut.readableBytes))
        }
        guard let fields = fittedTransfer() else { return .unchanged }
        let wanted = Int(clamping: fields.blockCount) * blockSize
        let have = dataOut.readableBytes
        if have == wanted { return .unchanged }
        var fitted = self
        if have > wanted {
            fitted.dataOut = dataOut.getSlice(at: dataOut.readerIndex, length: wanted)!
            return .fitted(fitted, wantedBytes: wanted)
        }
        let blocks = have / blockSize
        for index in 0..<fields.lengthWidth {
            fitted.cdb[fields.lengthOffset + index] = UInt8(truncatingIfNeeded: blocks >> (8 * (fields.lengthWidth - 1 - index)))
        }
        fitted.dataOut = dataOut.getSlice(at: dataOut.readerIndex, length: blocks * blockSize)!
        return .fitted(fitted, wantedBytes: wanted)
    }

    /// The transfer fields of a write this fits, or nil for any other command. WRITE AND
    /// VERIFY sends write data only with BYTCHK 0 or 1.
    private func fittedTransfer() -> TransferFields? {
        guard case .command(let descriptor) = CommandTable.lookup(operationCode: cdb[0], byte1: cdb.count > 1 ? cdb[1] : 0),
            Self.fittedKinds.contains(descriptor.kind), cdb.count >= descriptor.cdbLength
        else { return nil }
        switch descriptor.kind {
        case .writeAndVerify10, .writeAndVerify12, .writeAndVerify16:
            guard (cdb[1] >> 1) & 0x03 <= 1 else { return nil }
        default:
            break
        }
        return TransferFields(CDBFields(bytes: cdb), kind: descriptor.kind)
    }
}
