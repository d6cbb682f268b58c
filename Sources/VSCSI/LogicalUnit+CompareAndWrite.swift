// COMPARE AND WRITE (SBC-4 §5.3): the range lock makes it atomic against every other
// command of this unit from any nexus; the device's own CAW (an OFD lock for image
// files) extends that to other processes opening the same disk.

import BlockDevice
import NIOCore
import SCSI

extension LogicalUnit {
    func compareAndWrite(_ context: CommandContext) async throws -> CommandResult {
        let lba = context.cdb.uint64(2)
        let count = UInt64(context.cdb[13])
        guard count > 0 else { return .good }
        if count > UInt64(options.limits.maximumCompareAndWriteLength) {
            throw CommandFailure.invalidFieldInCDB(byte: 13)
        }
        try checkRange(lba: lba, count: count)
        let byteCount = Int(count) * geometry.blockSize
        let buffers = try dataOut(context, byteCount: 2 * byteCount, lengthOffset: 13)
        let expected = buffers.getSlice(at: buffers.readerIndex, length: byteCount)!
        let replacement = buffers.getSlice(at: buffers.readerIndex + byteCount, length: byteCount)!
        let fua = context.cdb[1] & 0x08 != 0 || !context.writeCacheEnabled
        try await rangeLocks.withLock(lba: lba, count: count, exclusive: true, nexus: context.nexus) {
            try ensureNotAborted(context)
            if device.capabilities.contains(.compareAndWrite) {
                try await device.compareAndWrite(at: lba, expected: expected, replacement: replacement)
                if fua { try await device.flush() }
            } else {
                let stored = try await device.read(at: lba, blockCount: Int(count))
                if let offset = stored.firstDifference(from: expected, length: byteCount) {
                    throw CommandFailure.miscompare(offset: offset)
                }
                try await device.write(replacement, at: lba, fua: fua)
            }
        }
        return CommandResult(dataOutLength: 2 * byteCount)
    }
}
