// VERIFY (BYTCHK 0, 1, 3) and WRITE AND VERIFY (BYTCHK 0, 1) in 10/12/16 (SBC-4 §5.38-5.41).

import BlockDevice
import NIOCore
import SCSI

extension LogicalUnit {
    func verify(_ context: CommandContext) async throws -> CommandResult {
        let fields = TransferFields(context.cdb, kind: context.descriptor.kind)
        let byteCheck = (context.cdb[1] >> 1) & 0x03
        if byteCheck == 0b10 { throw CommandFailure.invalidFieldInCDB(byte: 1, bit: 2) }
        try checkTransferLimit(fields)
        try checkRange(lba: fields.lba, count: fields.blockCount)
        guard fields.blockCount > 0 else { return .good }
        let blockSize = geometry.blockSize
        let blocks = Int(fields.blockCount)
        let expected: ByteBuffer?
        switch byteCheck {
        case 0b01: expected = try dataOut(context, byteCount: blocks * blockSize, lengthOffset: fields.lengthOffset)
        case 0b11: expected = try dataOut(context, byteCount: blockSize, lengthOffset: fields.lengthOffset)
        default: expected = nil
        }
        try ensureNotAborted(context)
        let stored = try await rangeLocks.withLock(lba: fields.lba, count: fields.blockCount, exclusive: false, nexus: context.nexus) {
            try await device.read(at: fields.lba, blockCount: blocks)
        }
        guard let expected else {
            // BYTCHK 0: reading the blocks without a medium error is the verification.
            return .good
        }
        if byteCheck == 0b01 {
            if let offset = stored.firstDifference(from: expected, length: blocks * blockSize) {
                throw CommandFailure.miscompare(offset: offset)
            }
            return CommandResult(dataOutLength: blocks * blockSize)
        }
        // BYTCHK 3: the single Data-Out block against every block; the offset counts
        // from the start of the verified range.
        for block in 0..<blocks {
            let slice = stored.getSlice(at: stored.readerIndex + block * blockSize, length: blockSize)!
            if let offset = slice.firstDifference(from: expected, length: blockSize) {
                throw CommandFailure.miscompare(offset: block * blockSize + offset)
            }
        }
        return CommandResult(dataOutLength: blockSize)
    }

    func writeAndVerify(_ context: CommandContext) async throws -> CommandResult {
        let fields = TransferFields(context.cdb, kind: context.descriptor.kind)
        let byteCheck = (context.cdb[1] >> 1) & 0x03
        if byteCheck > 0b01 { throw CommandFailure.invalidFieldInCDB(byte: 1, bit: 2) }
        try checkTransferLimit(fields)
        try checkRange(lba: fields.lba, count: fields.blockCount)
        guard fields.blockCount > 0 else { return .good }
        let byteCount = Int(fields.blockCount) * geometry.blockSize
        let data = try dataOut(context, byteCount: byteCount, lengthOffset: fields.lengthOffset)
        try await rangeLocks.withLock(lba: fields.lba, count: fields.blockCount, exclusive: true, nexus: context.nexus) {
            try ensureNotAborted(context)
            // The verification is of the medium, so the write must reach it first.
            try await device.write(data, at: fields.lba, fua: true)
            let stored = try await device.read(at: fields.lba, blockCount: Int(fields.blockCount))
            if byteCheck == 0b01, let offset = stored.firstDifference(from: data, length: byteCount) {
                throw CommandFailure.miscompare(offset: offset)
            }
        }
        return CommandResult(dataOutLength: byteCount)
    }
}
