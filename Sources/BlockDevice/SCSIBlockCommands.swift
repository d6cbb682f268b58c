// The block operations every SCSI engine (the native LUN, the libiscsi device) performs the
// same way: which commands a read, write, unmap or reservation becomes, how requests are
// checked and split, and what their errors say. An engine supplies only how a command is sent.

import NIOCore
import SCSI

/// What a logical unit's block limits page allows per command.
public struct SCSIBlockLimits: Sendable {
    /// Commands larger than this are split even when the target sets no limit.
    public static let defaultMaximumTransferBytes = 8 << 20

    /// Most blocks per READ/WRITE; nil when the target sets no limit.
    public var maximumTransferBlocks: Int?
    public var maximumUnmapBlocks = 0
    public var maximumUnmapDescriptors = 0
    /// Most blocks per WRITE SAME; nil when the target sets no limit.
    public var maximumWriteSameBlocks: Int?
    public var maximumCompareAndWriteBlocks = 0

    /// No limits known yet: nothing to unmap, no COMPARE AND WRITE.
    public init() {}

    /// Blocks per READ(16)/WRITE(16): the target's limit, never above the default size.
    public func maximumBlocksPerCommand(blockSize: Int) -> Int {
        let byDefault = Self.defaultMaximumTransferBytes / blockSize
        return max(1, min(maximumTransferBlocks ?? byDefault, byDefault))
    }
}

/// A SCSI logical unit that runs the `BlockDevice` operations as SCSI block commands.
///
/// Conforming engines give the primitive (`runCommand`) and what they probed at open;
/// the operations themselves are the extension methods below, shared by every engine
/// so their commands, splitting and error messages agree.
public protocol SCSIBlockCommands: SCSIPassthrough {
    /// The logical unit as error messages name it, such as "LUN 1 of 127.0.0.1:3260".
    var unitDescription: String { get }
    /// Whether `close()` has been called.
    var isClosed: Bool { get }
    /// The per-command limits probed at open.
    var blockLimits: SCSIBlockLimits { get }

    /// Sends `cdb` (named `name` in messages), retrying after UNIT ATTENTION, and returns the
    /// Data-In bytes; any status but GOOD throws the shared `BlockDeviceError(_:cdb:object:)`.
    func runCommand(_ cdb: [UInt8], name: String, dataOut: ByteBuffer?, dataInLength: Int) async throws -> ByteBuffer

    /// Sends `cdb` once, with no retry after UNIT ATTENTION, and says whether the answer was
    /// GOOD; a failed send is false. For probes that take one answer as it comes.
    func isAnsweredGood(_ cdb: [UInt8], name: String, dataInLength: Int) async -> Bool
}

extension SCSIBlockCommands {
    public func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer {
        try checkOpen()
        try checkRange(lba: lba, blockCount: blockCount, operation: "read")
        let blockSize = geometry.blockSize
        let chunk = blockLimits.maximumBlocksPerCommand(blockSize: blockSize)
        if blockCount <= chunk {
            return try await readChunk(lba: lba, blockCount: blockCount, blockSize: blockSize)
        }
        var whole = ByteBuffer()
        whole.reserveCapacity(blockCount * blockSize)
        var done = 0
        while done < blockCount {
            let count = min(chunk, blockCount - done)
            var piece = try await readChunk(lba: lba + UInt64(done), blockCount: count, blockSize: blockSize)
            whole.writeBuffer(&piece)
            done += count
        }
        return whole
    }

    private func readChunk(lba: UInt64, blockCount: Int, blockSize: Int) async throws -> ByteBuffer {
        let length = blockCount * blockSize
        let data = try await send(
            CDB.read16(lba: lba, blockCount: UInt32(blockCount)),
            name: "READ(16)",
            dataInLength: length
        )
        guard data.readableBytes == length else {
            throw BlockDeviceError(
                .deviceError,
                "\(unitDescription) returned \(data.readableBytes) of \(length) bytes for READ(16) at LBA \(lba)"
            )
        }
        return data
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        try checkOpen()
        let blockSize = geometry.blockSize
        let blockCount = try wholeBlocks(data, blockSize: blockSize, operation: "write")
        try checkRange(lba: lba, blockCount: blockCount, operation: "write")
        let chunk = blockLimits.maximumBlocksPerCommand(blockSize: blockSize)
        var done = 0
        while done < blockCount {
            let count = min(chunk, blockCount - done)
            let slice = data.getSlice(at: data.readerIndex + done * blockSize, length: count * blockSize)!
            _ = try await send(
                CDB.write16(lba: lba + UInt64(done), blockCount: UInt32(count), fua: fua),
                name: "WRITE(16)",
                dataOut: slice
            )
            done += count
        }
    }

    public func flush() async throws {
        try checkOpen()
        _ = try await send(CDB.synchronizeCache16(), name: "SYNCHRONIZE CACHE(16)")
    }

    public func unmap(_ ranges: [BlockRange]) async throws {
        try checkOpen()
        guard capabilities.contains(.unmap) else {
            throw BlockDeviceError(.notSupported, "\(unitDescription) does not support UNMAP")
        }
        for range in ranges {
            try checkRange(lba: range.lba, blockCount: Int(range.blockCount), operation: "unmap")
        }
        let limits = blockLimits
        let commands = SCSICommandPlan.unmap(
            ranges,
            maximumBlocksPerDescriptor: limits.maximumUnmapBlocks,
            maximumDescriptors: limits.maximumUnmapDescriptors
        )
        for (cdb, parameters) in commands {
            _ = try await send(cdb, name: "UNMAP", dataOut: ByteBuffer(bytes: parameters))
        }
    }

    public func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws {
        try checkOpen()
        let blockSize = geometry.blockSize
        guard pattern.readableBytes == blockSize else {
            throw BlockDeviceError(.invalidArgument, "WRITE SAME needs exactly one \(blockSize)-byte block, got \(pattern.readableBytes) bytes")
        }
        try checkRange(lba: lba, blockCount: blockCount, operation: "write same")
        if unmap, !capabilities.contains(.writeSameUnmap) {
            throw BlockDeviceError(.notSupported, "\(unitDescription) does not support WRITE SAME with UNMAP")
        }
        let maximum = blockLimits.maximumWriteSameBlocks
        for cdb in SCSICommandPlan.writeSame(lba: lba, blockCount: blockCount, unmap: unmap, maximumBlocks: maximum) {
            _ = try await send(cdb, name: "WRITE SAME(16)", dataOut: pattern)
        }
    }

    public func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        try checkOpen()
        guard capabilities.contains(.compareAndWrite) else {
            throw BlockDeviceError(.notSupported, "\(unitDescription) does not support COMPARE AND WRITE")
        }
        let blockSize = geometry.blockSize
        let blockCount = try wholeBlocks(expected, blockSize: blockSize, operation: "compare and write")
        guard replacement.readableBytes == expected.readableBytes, blockCount > 0, blockCount <= 255 else {
            throw BlockDeviceError(
                .invalidArgument,
                "COMPARE AND WRITE needs equal compare and write buffers of 1 to 255 blocks (got \(expected.readableBytes) and \(replacement.readableBytes) bytes)"
            )
        }
        try checkRange(lba: lba, blockCount: blockCount, operation: "compare and write")
        var payload = ByteBuffer()
        payload.reserveCapacity(expected.readableBytes * 2)
        payload.writeImmutableBuffer(expected)
        payload.writeImmutableBuffer(replacement)
        _ = try await send(CDB.compareAndWrite(lba: lba, blockCount: UInt8(blockCount)), name: "COMPARE AND WRITE", dataOut: payload)
    }

    public func persistentReserveOut(_ request: PersistentReserveOutRequest) async throws {
        try checkOpen()
        let (cdb, parameters) = CDB.persistentReserveOut(request)
        _ = try await send(cdb, name: "PERSISTENT RESERVE OUT", dataOut: ByteBuffer(bytes: parameters))
    }

    public func readReservationKeys() async throws -> PersistentReservationKeys {
        try await reserveIn(.readKeys, allocationLength: 8192, answer: "READ KEYS", parse: PersistentReservationKeys.init(parsing:))
    }

    public func readReservation() async throws -> PersistentReservationStatus {
        try await reserveIn(.readReservation, allocationLength: 64, answer: "READ RESERVATION", parse: PersistentReservationStatus.init(parsing:))
    }

    /// One PERSISTENT RESERVE IN; `answer` names the parameter data in the error when it does not parse.
    private func reserveIn<Answer>(
        _ action: PersistentReserveInServiceAction,
        allocationLength: UInt16,
        answer: String,
        parse: ([UInt8]) throws -> Answer
    ) async throws -> Answer {
        try checkOpen()
        let data = try await send(
            CDB.persistentReserveIn(action, allocationLength: allocationLength),
            name: "PERSISTENT RESERVE IN",
            dataInLength: Int(allocationLength)
        )
        do {
            return try parse(Array(data.readableBytesView))
        } catch {
            throw BlockDeviceError(.deviceError, "\(unitDescription) answered \(answer) with bad data", underlying: error)
        }
    }

    public func passthrough(_ cdb: [UInt8], name: String, dataOut: ByteBuffer? = nil, dataInLength: Int = 0) async throws -> ByteBuffer {
        try checkOpen()
        return try await runCommand(cdb, name: name, dataOut: dataOut, dataInLength: dataInLength)
    }

    /// Throws `.closed`, naming the unit, once the device was closed.
    public func checkOpen() throws {
        if isClosed {
            throw BlockDeviceError(.closed, "\(unitDescription) is closed")
        }
    }

    /// `runCommand` with the unused direction left out.
    private func send(_ cdb: [UInt8], name: String, dataOut: ByteBuffer? = nil, dataInLength: Int = 0) async throws -> ByteBuffer {
        try await runCommand(cdb, name: name, dataOut: dataOut, dataInLength: dataInLength)
    }

    private func wholeBlocks(_ data: ByteBuffer, blockSize: Int, operation: String) throws -> Int {
        guard data.readableBytes % blockSize == 0 else {
            throw BlockDeviceError(
                .invalidArgument,
                "\(operation) of \(data.readableBytes) bytes is not a whole number of \(blockSize)-byte blocks"
            )
        }
        return data.readableBytes / blockSize
    }
}
