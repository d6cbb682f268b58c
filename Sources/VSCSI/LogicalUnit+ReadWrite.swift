// READ and WRITE in all sizes, ORWRITE and WRITE ATOMIC: range checks, limits,
// range locks, FUA (also when WCE is off), and no copy of the payload.

import BlockDevice
import NIOCore
import SCSI

extension LogicalUnit {
    /// LBA OUT OF RANGE unless `count` blocks at `lba` are inside the unit. A count of
    /// 0 may start at the block just past the end, as SBC-4 allows.
    func checkRange(lba: UInt64, count: UInt64) throws(CommandFailure) {
        let blocks = geometry.blockCount
        guard lba <= blocks, count <= blocks - lba else { throw .lbaOutOfRange }
    }

    /// INVALID FIELD IN CDB when the transfer exceeds MAXIMUM TRANSFER LENGTH.
    func checkTransferLimit(_ fields: TransferFields) throws(CommandFailure) {
        if fields.blockCount > UInt64(options.limits.maximumTransferLength) {
            throw .invalidFieldInCDB(byte: fields.lengthOffset)
        }
    }

    /// The first `byteCount` bytes of Data-Out as a slice; a transport that delivered
    /// fewer bytes than the CDB asks for gets INVALID FIELD IN CDB on the length field.
    func dataOut(_ context: CommandContext, byteCount: Int, lengthOffset: Int) throws(CommandFailure) -> ByteBuffer {
        let buffer = context.dataOut
        guard byteCount >= 0, buffer.readableBytes >= byteCount,
              let slice = buffer.getSlice(at: buffer.readerIndex, length: byteCount)
        else { throw .invalidFieldInCDB(byte: lengthOffset) }
        return slice
    }

    func read(_ context: CommandContext) async throws -> CommandResult {
        let fields = TransferFields(context.cdb, kind: context.descriptor.kind)
        try checkTransferLimit(fields)
        try checkRange(lba: fields.lba, count: fields.blockCount)
        guard fields.blockCount > 0 else { return .good }
        try ensureNotAborted(context)
        let data = try await rangeLocks.withLock(lba: fields.lba, count: fields.blockCount, exclusive: false, nexus: context.nexus) {
            try await device.read(at: fields.lba, blockCount: Int(fields.blockCount))
        }
        return CommandResult(data: data)
    }

    func write(_ context: CommandContext) async throws -> CommandResult {
        let fields = TransferFields(context.cdb, kind: context.descriptor.kind)
        try checkTransferLimit(fields)
        try checkRange(lba: fields.lba, count: fields.blockCount)
        let byteCount = Int(fields.blockCount) * geometry.blockSize
        guard fields.blockCount > 0 else { return .good }
        let data = try dataOut(context, byteCount: byteCount, lengthOffset: fields.lengthOffset)
        let fua = fields.fua || !context.writeCacheEnabled
        try await rangeLocks.withLock(lba: fields.lba, count: fields.blockCount, exclusive: true, nexus: context.nexus) {
            try ensureNotAborted(context)
            try await device.write(data, at: fields.lba, fua: fua)
        }
        return CommandResult(dataOutLength: byteCount)
    }

    /// ORWRITE(16): the blocks become their old contents OR the Data-Out, atomically.
    func orWrite(_ context: CommandContext) async throws -> CommandResult {
        let fields = TransferFields(context.cdb, kind: context.descriptor.kind)
        try checkTransferLimit(fields)
        try checkRange(lba: fields.lba, count: fields.blockCount)
        guard fields.blockCount > 0 else { return .good }
        let byteCount = Int(fields.blockCount) * geometry.blockSize
        let mask = try dataOut(context, byteCount: byteCount, lengthOffset: fields.lengthOffset)
        let fua = fields.fua || !context.writeCacheEnabled
        try await rangeLocks.withLock(lba: fields.lba, count: fields.blockCount, exclusive: true, nexus: context.nexus) {
            try ensureNotAborted(context)
            let old = try await device.read(at: fields.lba, blockCount: Int(fields.blockCount))
            var merged = ByteBufferAllocator().buffer(capacity: byteCount)
            old.withUnsafeReadableBytes { oldBytes in
                mask.withUnsafeReadableBytes { maskBytes in
                    _ = merged.writeWithUnsafeMutableBytes(minimumWritableBytes: byteCount) { target in
                        for index in 0..<byteCount { target[index] = oldBytes[index] | maskBytes[index] }
                        return byteCount
                    }
                }
            }
            try await device.write(merged, at: fields.lba, fua: fua)
        }
        return CommandResult(dataOutLength: byteCount)
    }

    /// WRITE ATOMIC(16): every other command of this unit sees all of it or none of it.
    func writeAtomic(_ context: CommandContext) async throws -> CommandResult {
        let fields = TransferFields(context.cdb, kind: context.descriptor.kind)
        // MAXIMUM ATOMIC BOUNDARY SIZE is reported as 0: boundaries are not supported.
        if context.cdb.uint16(10) != 0 { throw CommandFailure.invalidFieldInCDB(byte: 10) }
        if fields.blockCount > UInt64(options.limits.maximumAtomicTransferLength) {
            throw CommandFailure.invalidFieldInCDB(byte: fields.lengthOffset)
        }
        return try await write(context)
    }
}
