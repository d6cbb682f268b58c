// SANITIZE (SBC-4 §5.30) mapped onto a block device: OVERWRITE writes the pattern,
// BLOCK ERASE deallocates (or zeroes) every block, CRYPTOGRAPHIC ERASE does the same
// because the disk keeps no key of its own to change. Progress shows in REQUEST SENSE.

import BlockDevice
import NIOCore
import SCSI

extension LogicalUnit {
    /// Blocks written or deallocated between two progress updates.
    static let sanitizeChunkBlocks: UInt64 = 2048

    func sanitize(_ context: CommandContext) async throws -> CommandResult {
        let cdb = context.cdb
        let action = cdb[1] & 0x1F
        let immediate = cdb[1] & 0x80 != 0
        let listLength = Int(cdb.uint16(7))
        let operation: SanitizeOperation
        switch action {
        case 0x1F:
            // EXIT FAILURE MODE: leave the failed state without sanitizing.
            if listLength != 0 { throw CommandFailure.invalidFieldInCDB(byte: 7) }
            state.withLockedValue { if $0.sanitize == .failed { $0.sanitize = .idle } }
            return .good
        case 0x01:
            operation = try overwriteOperation(context, listLength: listLength)
        case 0x02, 0x03:
            if listLength != 0 { throw CommandFailure.invalidFieldInCDB(byte: 7) }
            operation = .erase
        default:
            throw CommandFailure.invalidFieldInCDB(byte: 1, bit: 4)
        }
        try withState { state -> Result<Void, CommandFailure> in
            if case .running = state.sanitize {
                return .failure(.check(.notReady, .logicalUnitNotReadySanitizeInProgress))
            }
            state.sanitize = .running(progress: 0)
            return .success(())
        }
        let work = Task { try await self.runSanitize(operation) }
        if immediate { return CommandResult(dataOutLength: listLength) }
        try await work.value
        return CommandResult(dataOutLength: listLength)
    }

    private func overwriteOperation(_ context: CommandContext, listLength: Int) throws(CommandFailure) -> SanitizeOperation {
        // SBC-4 §5.30.2: a PARAMETER LIST LENGTH below 5 or above the block length plus 4 is a bad CDB field.
        guard listLength >= 5, listLength <= geometry.blockSize + 4 else { throw .invalidFieldInCDB(byte: 7) }
        let list = Array(context.dataOut.readableBytesView.prefix(listLength))
        guard list.count == listLength, list.count >= 4 else { throw .parameterListLengthError }
        let patternLength = Int(list.bigEndian(at: 2, width: 2))
        let blockSize = geometry.blockSize
        if patternLength == 0 || patternLength > blockSize { throw .invalidFieldInParameterList(byte: 2) }
        guard 4 + patternLength == listLength else { throw .parameterListLengthError }
        let passes = Int(list[0] & 0x1F)
        if passes == 0 { throw .invalidFieldInParameterList(byte: 0, bit: 4) }
        if list[0] & 0x60 != 0 { throw .invalidFieldInParameterList(byte: 0, bit: 6) }  // TEST
        let pattern = Array(list[4...])
        // A pattern shorter than a block repeats to fill it.
        let block = (0..<blockSize).map { pattern[$0 % pattern.count] }
        return .overwrite(pattern: ByteBuffer(bytes: block), passes: passes, invert: list[0] & 0x80 != 0)
    }

    /// Does the work, updating the progress indication; leaves the unit failed on error.
    private func runSanitize(_ operation: SanitizeOperation) async throws {
        let blocks = geometry.blockCount
        let start = ContinuousClock.now
        do {
            switch operation {
            case .overwrite(let pattern, let passes, let invert):
                let inverted = ByteBuffer(bytes: pattern.readableBytesView.map { ~$0 })
                for pass in 0..<passes {
                    let current = invert && pass % 2 == 1 ? inverted : pattern
                    try await fill(with: current, passIndex: pass, passes: passes, blocks: blocks, start: start)
                }
            case .erase:
                if isThin && unmappedReadsZero && device.capabilities.contains(.unmap) {
                    var done: UInt64 = 0
                    let chunk = Self.sanitizeChunkBlocks * 512
                    while done < blocks {
                        let count = min(chunk, blocks - done)
                        try await device.unmap(Self.blockRanges(lba: done, count: count))
                        done += count
                        reportSanitizeProgress(done: done, of: blocks)
                        await paceSanitize(blocksDone: done, since: start)
                    }
                } else {
                    try await fill(with: ByteBuffer(repeating: 0, count: geometry.blockSize), passIndex: 0, passes: 1, blocks: blocks, start: start)
                }
            }
            try await device.flush()
            state.withLockedValue { $0.sanitize = .idle }
        } catch {
            state.withLockedValue { $0.sanitize = .failed }
            throw CommandFailure.check(.mediumError, .sanitizeCommandFailed)
        }
    }

    private func fill(with pattern: ByteBuffer, passIndex: Int, passes: Int, blocks: UInt64, start: ContinuousClock.Instant) async throws {
        var done: UInt64 = 0
        while done < blocks {
            let count = min(Self.sanitizeChunkBlocks, blocks - done)
            try await device.writeSame(pattern, at: done, blockCount: Int(count), unmap: false)
            done += count
            reportSanitizeProgress(done: UInt64(passIndex) * blocks + done, of: UInt64(passes) * blocks)
            await paceSanitize(blocksDone: UInt64(passIndex) * blocks + done, since: start)
        }
    }

    /// With `sanitizeBytesPerSecond` set, waits until the blocks processed since `start`
    /// are within that rate. The wait per chunk is bounded by the chunk's share of it.
    private func paceSanitize(blocksDone: UInt64, since start: ContinuousClock.Instant) async {
        guard let rate = options.sanitizeBytesPerSecond, rate > 0 else { return }
        let bytes = Double(blocksDone) * Double(geometry.blockSize)
        let due = start + .seconds(bytes / Double(rate))
        if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
    }

    private func reportSanitizeProgress(done: UInt64, of total: UInt64) {
        let progress = total == 0 ? 0 : UInt16(clamping: done.multipliedFullWidth(by: 65535).low / total)
        state.withLockedValue { state in
            if case .running = state.sanitize { state.sanitize = .running(progress: progress) }
        }
    }
}
