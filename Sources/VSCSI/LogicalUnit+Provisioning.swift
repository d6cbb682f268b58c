// WRITE SAME(10/16) with UNMAP and NDOB, UNMAP, and GET LBA STATUS (SBC-4 §5.32,
// §5.48-5.49, §5.6): how blocks are filled and deallocated.

import BlockDevice
import NIOCore
import SCSI

extension LogicalUnit {
    func writeSame(_ context: CommandContext) async throws -> CommandResult {
        let cdb = context.cdb
        let fields = TransferFields(cdb, kind: context.descriptor.kind)
        let unmapRequested = cdb[1] & 0x08 != 0
        let noDataOut = context.descriptor.kind == .writeSame16 && cdb[1] & 0x01 != 0
        if unmapRequested && !isThin { throw CommandFailure.invalidFieldInCDB(byte: 1, bit: 3) }
        let count = try writeSameBlockCount(fields)
        let blockSize = geometry.blockSize
        // The Data-Out is one logical block, no more and no less.
        if !noDataOut && context.dataOut.readableBytes != blockSize {
            throw CommandFailure.invalidFieldInCDB(byte: fields.lengthOffset)
        }
        let pattern = noDataOut
            ? ByteBuffer(repeating: 0, count: blockSize)
            : try dataOut(context, byteCount: blockSize, lengthOffset: fields.lengthOffset)
        try await rangeLocks.withLock(lba: fields.lba, count: count, exclusive: true, nexus: context.nexus) {
            try ensureNotAborted(context)
            // UNMAP asks for the range to be deallocated, whatever the block sent (as LIO and
            // tgt do, and libiscsi's suite expects); the blocks then read as zeros (LBPRZ).
            // Without deallocation that reads zeros, the pattern is written instead.
            if unmapRequested && unmappedReadsZero && device.capabilities.contains(.unmap) {
                try await device.unmap(Self.blockRanges(lba: fields.lba, count: count))
            } else {
                try await device.writeSame(pattern, at: fields.lba, blockCount: Int(count), unmap: false)
            }
            if !context.writeCacheEnabled { try await device.flush() }
        }
        return CommandResult(dataOutLength: noDataOut ? 0 : blockSize)
    }

    /// The blocks a WRITE SAME covers. WSNZ is clear, so a NUMBER OF LOGICAL BLOCKS of 0
    /// means every block from the LBA to the last one (SBC-4 §5.48); a range starting past
    /// the end is LBA OUT OF RANGE, and one longer than MAXIMUM WRITE SAME LENGTH, whether
    /// given or implied by 0, is INVALID FIELD IN CDB on the count.
    func writeSameBlockCount(_ fields: TransferFields) throws(CommandFailure) -> UInt64 {
        let blocks = geometry.blockCount
        var count = fields.blockCount
        if count == 0 {
            guard fields.lba < blocks else { throw .lbaOutOfRange }
            count = blocks - fields.lba
        }
        if count > options.limits.maximumWriteSameLength {
            throw .invalidFieldInCDB(byte: fields.lengthOffset)
        }
        try checkRange(lba: fields.lba, count: count)
        return count
    }

    func unmap(_ context: CommandContext) async throws -> CommandResult {
        let listLength = Int(context.cdb.uint16(7))
        guard listLength > 0 else { return .good }
        let list = Array(context.dataOut.readableBytesView.prefix(listLength))
        guard list.count >= 8, list.count == listLength else { throw CommandFailure.parameterListLengthError }
        let descriptorBytes = Int(list.bigEndian(at: 2, width: 2))
        // A cut-off last descriptor is ignored (SBC-4 §5.32.2).
        let count = min(descriptorBytes, list.count - 8) / 16
        if count > Int(options.limits.maximumUnmapDescriptorCount) {
            throw CommandFailure.invalidFieldInParameterList(byte: 2)
        }
        var ranges: [(lba: UInt64, count: UInt64)] = []
        var total: UInt64 = 0
        for index in 0..<count {
            let offset = 8 + 16 * index
            let lba = list.bigEndian(at: offset, width: 8)
            let blocks = list.bigEndian(at: offset + 8, width: 4)
            total += blocks
            if blocks > UInt64(options.limits.maximumUnmapLBACount) || total > UInt64(options.limits.maximumUnmapLBACount) {
                throw CommandFailure.invalidFieldInParameterList(byte: offset + 8)
            }
            try checkRange(lba: lba, count: blocks)
            if blocks > 0 { ranges.append((lba, blocks)) }
        }
        try ensureNotAborted(context)
        for range in ranges {
            try await rangeLocks.withLock(lba: range.lba, count: range.count, exclusive: true, nexus: context.nexus) {
                if unmappedReadsZero && device.capabilities.contains(.unmap) {
                    try await device.unmap(Self.blockRanges(lba: range.lba, count: range.count))
                } else {
                    // Without LBPRZ a deallocated block may read as anything; zeros are one such thing.
                    try await device.writeSame(ByteBuffer(repeating: 0, count: geometry.blockSize), at: range.lba, blockCount: Int(range.count), unmap: false)
                }
            }
        }
        return CommandResult(dataOutLength: listLength)
    }

    /// `count` blocks at `lba` in pieces a `BlockRange` can hold.
    static func blockRanges(lba: UInt64, count: UInt64) -> [BlockRange] {
        var ranges: [BlockRange] = []
        var next = lba
        var left = count
        while left > 0 {
            let piece = min(left, UInt64(UInt32.max))
            ranges.append(BlockRange(lba: next, blockCount: UInt32(piece)))
            next += piece
            left -= piece
        }
        return ranges
    }

    /// Descriptors GET LBA STATUS returns at most in one answer.
    static let maximumLBAStatusDescriptors = 64

    /// GET LBA STATUS: runs of mapped and deallocated blocks from the LBA on, as the
    /// device reports them (`LBAStatusReporting`); a device that cannot tell gets one
    /// descriptor saying everything is mapped, which is always a safe answer.
    func getLBAStatus(_ context: CommandContext) async throws -> CommandResult {
        let cdb = context.cdb
        let lba = cdb.uint64(2)
        let allocationLength = Int(cdb.uint32(10))
        if cdb[14] & 0x03 == 0x03 { throw CommandFailure.invalidFieldInCDB(byte: 14, bit: 1) }
        let blocks = geometry.blockCount
        guard lba < blocks else { throw CommandFailure.lbaOutOfRange }
        var runs: [(lba: UInt64, count: UInt64, mapped: Bool)] = []
        if let reporting = device as? any LBAStatusReporting {
            // No more descriptors than the allocation length can carry.
            let wanted = max(1, min(Self.maximumLBAStatusDescriptors, (allocationLength - 8) / 16))
            var next = lba
            while next < blocks && runs.count < wanted {
                let limit = min(blocks - next, UInt64(UInt32.max))
                let (mapped, count) = try await reporting.provisioningStatus(at: next, limit: limit)
                let length = min(max(count, 1), limit)
                runs.append((next, length, mapped))
                next += length
            }
        } else {
            runs = [(lba, min(blocks - lba, UInt64(UInt32.max)), true)]
        }
        var data = [UInt8](repeating: 0, count: 8 + 16 * runs.count)
        data.put(UInt32(4 + 16 * runs.count), at: 0)
        for (index, run) in runs.enumerated() {
            let offset = 8 + 16 * index
            data.put(run.lba, at: offset)
            data.put(UInt32(run.count), at: offset + 8)
            data[offset + 12] = run.mapped ? 0x00 : 0x01  // PROVISIONING STATUS: mapped or deallocated
        }
        return .data(data, allocationLength: allocationLength)
    }
}
