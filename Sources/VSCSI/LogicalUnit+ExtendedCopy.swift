// EXTENDED COPY(LID1) and RECEIVE COPY RESULTS (SPC-5 §6.4, §6.18): the copy manager
// for block-to-block segments between units found by their NAA designator.

import BlockDevice
import NIOCore
import SCSI

extension LogicalUnit {
    /// Bytes moved per read/write pair while copying.
    static let copyChunkBytes = 1 << 20
    static let copyHeaderLength = 16
    static let copyTargetDescriptorLength = 32
    static let blockToBlockSegmentLength = 28
    static let maximumConcurrentCopies: UInt8 = 16

    func extendedCopy(_ context: CommandContext) async throws -> CommandResult {
        let listLength = Int(context.cdb.uint32(10))
        guard listLength > 0 else { return .good }
        let list = Array(context.dataOut.readableBytesView.prefix(listLength))
        guard list.count == listLength, list.count >= Self.copyHeaderLength else {
            throw CommandFailure.parameterListLengthError
        }
        let limits = options.limits
        let listIdentifier = list[0]
        let holdsListIdentifier = (list[1] >> 3) & 0x03 != 0b11
        let targetsLength = Int(list.bigEndian(at: 2, width: 2))
        let segmentsLength = Int(list.bigEndian(at: 8, width: 4))
        let inlineLength = Int(list.bigEndian(at: 12, width: 4))
        if inlineLength != 0 { throw CommandFailure.invalidFieldInParameterList(byte: 12) }
        // The list-length checks come before the descriptor counts (libiscsi tests that order).
        guard targetsLength + segmentsLength <= Int(limits.maximumCopyDescriptorListLength),
              Self.copyHeaderLength + targetsLength + segmentsLength <= list.count
        else { throw CommandFailure.parameterListLengthError }
        guard targetsLength % Self.copyTargetDescriptorLength == 0 else { throw CommandFailure.parameterListLengthError }
        let targetCount = targetsLength / Self.copyTargetDescriptorLength
        if targetCount > Int(limits.maximumCopyTargetDescriptors) {
            throw CommandFailure.check(.illegalRequest, .tooManyTargetDescriptors)
        }

        // Count and type-check the segment descriptors before resolving anything.
        var segmentOffsets: [Int] = []
        var offset = Self.copyHeaderLength + targetsLength
        let segmentsEnd = offset + segmentsLength
        while offset < segmentsEnd {
            guard offset + 4 <= segmentsEnd else { throw CommandFailure.parameterListLengthError }
            let length = 4 + Int(list.bigEndian(at: offset + 2, width: 2))
            guard offset + length <= segmentsEnd else { throw CommandFailure.parameterListLengthError }
            segmentOffsets.append(offset)
            offset += length
        }
        if segmentOffsets.count > Int(limits.maximumCopySegmentDescriptors) {
            throw CommandFailure.check(.illegalRequest, .tooManySegmentDescriptors)
        }
        for start in segmentOffsets where list[start] != 0x02 {
            throw CommandFailure.check(.illegalRequest, .unsupportedSegmentDescriptorTypeCode)
        }

        var targets: [LogicalUnit] = []
        for index in 0..<targetCount {
            targets.append(try resolveCopyTarget(list, at: Self.copyHeaderLength + index * Self.copyTargetDescriptorLength))
        }
        var segments: [CopySegment] = []
        for start in segmentOffsets {
            segments.append(try copySegment(list, at: start, targets: targets))
        }

        let key = CopyKey(nexus: context.nexus, listIdentifier: listIdentifier)
        if holdsListIdentifier {
            try withState { state -> Result<Void, CommandFailure> in
                if state.copies[key]?.status == .inProgress {
                    return .failure(.check(.illegalRequest, .operationInProgress))
                }
                state.copies[key] = CopyRecord(status: .inProgress, segmentsProcessed: 0, bytesTransferred: 0)
                return .success(())
            }
        }
        var moved: UInt64 = 0
        do {
            try ensureNotAborted(context)
            for (index, segment) in segments.enumerated() {
                moved += try await runCopySegment(segment, nexus: context.nexus)
                if holdsListIdentifier {
                    state.withLockedValue {
                        $0.copies[key] = CopyRecord(status: .inProgress, segmentsProcessed: UInt16(clamping: index + 1), bytesTransferred: moved)
                    }
                }
            }
        } catch {
            if holdsListIdentifier {
                state.withLockedValue { $0.copies[key]?.status = .completedWithError }
            }
            throw copyFailure(error, context: context)
        }
        if holdsListIdentifier {
            state.withLockedValue { $0.copies[key]?.status = .completedGood }
        }
        return CommandResult(dataOutLength: listLength)
    }

    /// An identification CSCD descriptor (0xE4) naming a unit by its NAA designator.
    private func resolveCopyTarget(_ list: [UInt8], at offset: Int) throws(CommandFailure) -> LogicalUnit {
        guard list[offset] == 0xE4 else {
            throw .check(.illegalRequest, .unsupportedTargetDescriptorTypeCode)
        }
        // Only direct-access block devices can be copied between.
        if list[offset + 1] & 0x1F != 0 { throw .check(.illegalRequest, .unsupportedTargetDescriptorTypeCode) }
        let designatorType = list[offset + 5] & 0x0F
        let association = (list[offset + 5] >> 4) & 0x03
        let length = Int(list[offset + 7])
        guard designatorType == 0x03, association == 0, length <= 20 else {
            throw .check(.copyAborted, .unreachableCopyTarget)
        }
        let designator = Array(list[(offset + 8)..<(offset + 8 + length)])
        let unit: LogicalUnit
        if designator == identity.naaIdentifier {
            unit = self
        } else if let other = registry?.unit(withNAA: designator) {
            unit = other
        } else {
            throw .check(.copyAborted, .unreachableCopyTarget)
        }
        let blockLength = list.bigEndian(at: offset + 29, width: 3)
        if blockLength != UInt64(unit.geometry.blockSize) {
            throw .invalidFieldInParameterList(byte: offset + 29)
        }
        return unit
    }

    private func copySegment(_ list: [UInt8], at offset: Int, targets: [LogicalUnit]) throws(CommandFailure) -> CopySegment {
        guard Int(list.bigEndian(at: offset + 2, width: 2)) == Self.blockToBlockSegmentLength - 4 else {
            throw .invalidFieldInParameterList(byte: offset + 2)
        }
        let sourceIndex = Int(list.bigEndian(at: offset + 4, width: 2))
        let destinationIndex = Int(list.bigEndian(at: offset + 6, width: 2))
        // An index past the CSCD list names a copy target the copy manager cannot reach.
        guard sourceIndex < targets.count, destinationIndex < targets.count else {
            throw .check(.copyAborted, .copyTargetDeviceNotReachable)
        }
        let source = targets[sourceIndex]
        let destination = targets[destinationIndex]
        guard source.geometry.blockSize == destination.geometry.blockSize else {
            throw .invalidFieldInParameterList(byte: offset + 6)
        }
        let blockCount = list.bigEndian(at: offset + 10, width: 2)
        if blockCount * UInt64(source.geometry.blockSize) > UInt64(options.limits.maximumCopySegmentBytes) {
            throw .invalidFieldInParameterList(byte: offset + 10)
        }
        return CopySegment(
            source: source,
            destination: destination,
            sourceLBA: list.bigEndian(at: offset + 12, width: 8),
            destinationLBA: list.bigEndian(at: offset + 20, width: 8),
            blockCount: blockCount
        )
    }

    /// Copies one segment in chunks, each read under the source's range lock and
    /// written under the destination's. Returns the bytes moved.
    ///
    /// Every chunk is admitted on both units as the requesting nexus's own READ of the
    /// source and WRITE of the destination would be: a reservation, a sanitize, a stopped
    /// unit or write protection that would refuse those refuses the copy, with the same
    /// status and sense. Otherwise a copy sent to one unit would reach past another's fence.
    private func runCopySegment(_ segment: CopySegment, nexus: Nexus) async throws -> UInt64 {
        let source = segment.source
        let destination = segment.destination
        try source.admitCopy(writing: false, nexus: nexus)
        try destination.admitCopy(writing: true, nexus: nexus)
        do {
            try source.checkRange(lba: segment.sourceLBA, count: segment.blockCount)
            try destination.checkRange(lba: segment.destinationLBA, count: segment.blockCount)
        } catch {
            // The copy target, not the EXTENDED COPY command, holds no such blocks: the copy
            // is aborted without an additional sense code of its own (libiscsi's suite
            // accepts only that or an unreachable target here).
            throw CommandFailure.check(.copyAborted, .noAdditionalSenseInformation)
        }
        let blockSize = source.geometry.blockSize
        let chunkBlocks = UInt64(max(1, Self.copyChunkBytes / blockSize))
        var done: UInt64 = 0
        while done < segment.blockCount {
            let count = min(chunkBlocks, segment.blockCount - done)
            if done > 0 {
                // A reservation taken while the copy runs fences the rest of it.
                try source.admitCopy(writing: false, nexus: nexus)
                try destination.admitCopy(writing: true, nexus: nexus)
            }
            let data = try await source.rangeLocks.withLock(lba: segment.sourceLBA + done, count: count, exclusive: false, nexus: nexus) {
                try await source.device.read(at: segment.sourceLBA + done, blockCount: Int(count))
            }
            try await destination.rangeLocks.withLock(lba: segment.destinationLBA + done, count: count, exclusive: true, nexus: nexus) {
                try await destination.device.write(data, at: segment.destinationLBA + done, fua: false)
            }
            done += count
        }
        return segment.blockCount * UInt64(blockSize)
    }

    /// Admits a copy's access to this unit as a direct READ (or WRITE) from `nexus` would
    /// be admitted, unit attentions aside: those stay queued for that nexus's own next command.
    func admitCopy(writing: Bool, nexus: Nexus) throws(CommandFailure) {
        let failure = state.withLockedValue { state in
            sanitizeInProgress(state) ?? accessFailure(
                writing ? .write : .read, startStopCDB: nil, rules: writing ? [.needsMedium, .modifiesMedium] : [.needsMedium],
                isSanitize: false, nexus, state
            )
        }
        if let failure { throw failure }
    }

    /// Device failures during a copy are reported under COPY ABORTED, keeping their ASC.
    private func copyFailure(_ error: any Error, context: CommandContext) -> CommandFailure {
        var failure = commandFailure(for: error, context: context)
        if error is BlockDeviceError, failure.status == .checkCondition, var sense = failure.sense {
            sense.senseKey = .copyAborted
            failure.sense = sense
        }
        return failure
    }

    func receiveCopyStatus(_ context: CommandContext) throws -> CommandResult {
        let key = CopyKey(nexus: context.nexus, listIdentifier: context.cdb[2])
        let allocationLength = Int(context.cdb.uint32(10))
        let record = state.withLockedValue { state -> CopyRecord? in
            guard let record = state.copies[key] else { return nil }
            // A finished copy is reported once, then forgotten.
            if record.status != .inProgress { state.copies[key] = nil }
            return record
        }
        guard let record else { throw CommandFailure.invalidFieldInCDB(byte: 2) }
        var data = [UInt8](repeating: 0, count: 12)
        data.put(UInt32(8), at: 0)
        data[4] = record.status.rawValue
        data.put(record.segmentsProcessed, at: 5)
        if record.bytesTransferred <= UInt64(UInt32.max) {
            data[7] = 0x00  // TRANSFER COUNT in bytes
            data.put(UInt32(record.bytesTransferred), at: 8)
        } else {
            data[7] = 0x01  // in KiB
            data.put(UInt32(clamping: record.bytesTransferred >> 10), at: 8)
        }
        return .data(data, allocationLength: allocationLength)
    }

    func receiveCopyOperatingParameters(_ context: CommandContext) -> CommandResult {
        let limits = options.limits
        let implemented: [UInt8] = [0x02, 0xE4]
        var data = [UInt8](repeating: 0, count: 44)
        data.put(UInt32(40 + implemented.count), at: 0)
        data[4] = 0x01  // SNLID: LIST ID USAGE 11b accepted
        data.put(limits.maximumCopyTargetDescriptors, at: 8)
        data.put(limits.maximumCopySegmentDescriptors, at: 10)
        data.put(limits.maximumCopyDescriptorListLength, at: 12)
        data.put(limits.maximumCopySegmentBytes, at: 16)
        data.put(UInt16(Self.maximumConcurrentCopies), at: 34)
        data[36] = Self.maximumConcurrentCopies
        data[37] = UInt8(geometry.blockSize.trailingZeroBitCount)  // DATA SEGMENT GRANULARITY (log2)
        data[43] = UInt8(implemented.count)
        return .data(data + implemented, allocationLength: Int(context.cdb.uint32(10)))
    }
}
