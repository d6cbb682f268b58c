// The data path of a virtual disk: split at file-block boundaries, map, allocate on
// first write, and pass the rest straight to the LUN.

import BlockDevice
import NIOCore

extension VirtualDisk {
    /// One piece of a request that lies inside a single file block.
    struct Piece {
        var logical: UInt64
        var offsetInBlock: Int
        var length: Int
        var bufferOffset: Int
    }

    func pieces(offset: UInt64, length: Int) -> [Piece] {
        let fileBlock = UInt64(datastore.fileBlockSize)
        var result: [Piece] = []
        var done = 0
        while done < length {
            let position = offset + UInt64(done)
            let inBlock = Int(position % fileBlock)
            let take = min(length - done, Int(fileBlock) - inBlock)
            result.append(Piece(logical: position / fileBlock, offsetInBlock: inBlock, length: take, bufferOffset: done))
            done += take
        }
        return result
    }

    func checkBounds(offset: UInt64, length: Int, _ operation: String) throws {
        let size = self.size
        guard length >= 0, offset <= size, UInt64(length) <= size - offset else {
            throw BlockDeviceError(.outOfRange, "\(operation) of \(length) bytes at offset \(offset) is past the end of disk '\(name)' (\(size) bytes)")
        }
    }

    func mapped(_ logical: UInt64) async throws -> UInt64 {
        let descriptor = state.withLockedValue { $0.descriptor }
        do {
            return try await datastore.resolve(logical, descriptor: descriptor, cache: cache)
        } catch let error as DatastoreError {
            throw BlockDeviceError(.mediumError, error.message, underlying: error)
        }
    }

    /// Reads `length` bytes at byte `offset`; holes read as zeros.
    public func read(offset: UInt64, length: Int) async throws -> ByteBuffer {
        try checkUsable("read", writing: false)
        try checkBounds(offset: offset, length: length, "read")
        let pieces = pieces(offset: offset, length: length)
        if pieces.count == 1 {
            // The common case, a request inside one file block: hand back the LUN's buffer
            // as it came, without zero-filling and copying it (a 1 MiB read did both).
            let physical = try await mapped(pieces[0].logical)
            guard physical != 0 else { return ByteBuffer.zeros(length) }
            return try await readPhysical(block: physical, offset: pieces[0].offsetInBlock, length: length)
        }
        var result = ByteBuffer.zeros(length)
        for piece in pieces {
            let physical = try await mapped(piece.logical)
            guard physical != 0 else { continue }
            let data = try await readPhysical(block: physical, offset: piece.offsetInBlock, length: piece.length)
            result.setBuffer(data, at: piece.bufferOffset)
        }
        return result
    }

    /// LUN bytes `offset..<offset+length` of file block `block`, widened to whole LUN blocks.
    private func readPhysical(block: UInt64, offset: Int, length: Int) async throws -> ByteBuffer {
        let sector = datastore.sectorSize
        let start = block * UInt64(datastore.fileBlockSize) + UInt64(offset)
        let firstLBA = start / UInt64(sector)
        let lead = Int(start % UInt64(sector))
        let count = (lead + length + sector - 1) / sector
        let data = try await datastore.device.read(at: firstLBA, blockCount: count)
        return data.getSlice(at: data.readerIndex + lead, length: length)!
    }

    /// Writes at byte `offset`. Unaligned edges are read-modify-written at LUN block size.
    public func write(_ data: ByteBuffer, offset: UInt64, fua: Bool) async throws {
        try checkUsable("write", writing: true)
        try checkBounds(offset: offset, length: data.readableBytes, "write")
        let pieces = pieces(offset: offset, length: data.readableBytes)
        var holes: [Piece] = []
        for piece in pieces where try await mapped(piece.logical) == 0 { holes.append(piece) }
        var written: Set<UInt64> = []
        if !holes.isEmpty {
            written = try await allocate(holes, data: data)
        }
        for piece in pieces where !written.contains(piece.logical) {
            let physical = try await mapped(piece.logical)
            guard physical != 0 else {
                throw BlockDeviceError(.deviceError, "disk '\(name)': logical block \(piece.logical) is still unmapped after allocation")
            }
            let slice = data.getSlice(at: data.readerIndex + piece.bufferOffset, length: piece.length)!
            try await writePhysical(slice, block: physical, offset: piece.offsetInBlock, fua: fua)
        }
        if fua && !written.isEmpty { try await datastore.asRegistrant { try await datastore.device.flush() } }
    }

    private func allocate(_ holes: [Piece], data: ByteBuffer) async throws -> Set<UInt64> {
        let fileBlock = datastore.fileBlockSize
        var full: [UInt64: ByteBuffer] = [:]
        for hole in holes where hole.length == fileBlock {
            full[hole.logical] = data.getSlice(at: data.readerIndex + hole.bufferOffset, length: hole.length)!
        }
        do {
            return try await datastore.metadataLock.withLock {
                try checkUsable("allocate", writing: true)
                let current = state.withLockedValue { $0.descriptor }
                let result = try await datastore.allocate(
                    index: index, descriptor: current, logical: holes.map(\.logical), data: full, cache: cache,
                    onCommit: { [state] descriptor in state.withLockedValue { $0.descriptor = descriptor } }
                )
                return result.written
            }
        } catch let error as DatastoreError {
            let code: BlockDeviceError.Code = switch error.code {
            case .fenced: .fenced
            case .noSpace: .noSpace
            default: .deviceError
            }
            throw BlockDeviceError(code, error.message, underlying: error)
        }
    }

    private func writePhysical(_ data: ByteBuffer, block: UInt64, offset: Int, fua: Bool) async throws {
        let sector = datastore.sectorSize
        let start = block * UInt64(datastore.fileBlockSize) + UInt64(offset)
        let device = datastore.device
        if start % UInt64(sector) == 0 && data.readableBytes % sector == 0 {
            try await datastore.writeAsRegistrant(data, at: start / UInt64(sector), fua: fua)
            return
        }
        // Byte-granular edges: read the covering LUN blocks, patch, write back, in order with other writers of this disk.
        try await changeLock.withLock {
            let firstLBA = start / UInt64(sector)
            let lead = Int(start % UInt64(sector))
            let count = (lead + data.readableBytes + sector - 1) / sector
            var covering = try await device.read(at: firstLBA, blockCount: count)
            covering.setBuffer(data, at: covering.readerIndex + lead)
            try await datastore.writeAsRegistrant(covering, at: firstLBA, fua: fua)
        }
    }

    // MARK: BlockDevice

    public func read(at lba: UInt64, blockCount: Int) async throws -> ByteBuffer {
        try await read(offset: lba * UInt64(geometry.blockSize), length: blockCount * geometry.blockSize)
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, fua: Bool) async throws {
        guard data.readableBytes % geometry.blockSize == 0 else {
            throw BlockDeviceError(.invalidArgument, "write of \(data.readableBytes) bytes to disk '\(name)' is not a multiple of its block size \(geometry.blockSize)")
        }
        try await write(data, offset: lba * UInt64(geometry.blockSize), fua: fua)
    }

    public func flush() async throws {
        try checkUsable("flush", writing: false)
        try await datastore.asRegistrant { try await datastore.device.flush() }
    }

    /// Frees whole file blocks inside the ranges (and UNMAPs them on the LUN where it can);
    /// the partial edges are written with zeros, so the whole range reads zeros afterwards.
    public func unmap(_ ranges: [BlockRange]) async throws {
        try checkUsable("unmap", writing: true)
        let blockSize = UInt64(geometry.blockSize)
        let fileBlock = UInt64(datastore.fileBlockSize)
        var whole: [UInt64] = []
        for range in ranges {
            let start = range.lba * blockSize
            let length = UInt64(range.blockCount) * blockSize
            try checkBounds(offset: start, length: Int(length), "unmap")
            let firstWhole = (start + fileBlock - 1) / fileBlock
            let endWhole = (start + length) / fileBlock
            if firstWhole < endWhole {
                whole += Array(firstWhole..<endWhole)
                try await zeroMapped(offset: start, length: Int(firstWhole * fileBlock - start))
                try await zeroMapped(offset: endWhole * fileBlock, length: Int(start + length - endWhole * fileBlock))
            } else {
                try await zeroMapped(offset: start, length: Int(length))
            }
        }
        guard !whole.isEmpty else { return }
        do {
            try await datastore.metadataLock.withLock {
                try checkUsable("unmap", writing: true)
                let current = state.withLockedValue { $0.descriptor }
                _ = try await datastore.free(index: index, descriptor: current, logical: whole, cache: cache,
                                             onCommit: { [state] descriptor in state.withLockedValue { $0.descriptor = descriptor } })
            }
        } catch let error as DatastoreError {
            throw BlockDeviceError(error.code == .fenced ? .fenced : .deviceError, error.message, underlying: error)
        }
    }

    /// Writes zeros over the mapped parts of a range; holes already read as zeros.
    private func zeroMapped(offset: UInt64, length: Int) async throws {
        guard length > 0 else { return }
        for piece in pieces(offset: offset, length: length) where try await mapped(piece.logical) != 0 {
            try await write(ByteBuffer.zeros(piece.length), offset: piece.logical * UInt64(datastore.fileBlockSize) + UInt64(piece.offsetInBlock), fua: false)
        }
    }

    public func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: Int, unmap: Bool) async throws {
        guard pattern.readableBytes == geometry.blockSize else {
            throw BlockDeviceError(.invalidArgument, "write same pattern on disk '\(name)' must be one block of \(geometry.blockSize) bytes")
        }
        if unmap && pattern.readableBytesView.allSatisfy({ $0 == 0 }) {
            try await self.unmap([BlockRange(lba: lba, blockCount: UInt32(blockCount))])
            return
        }
        let perChunk = max(1, (1 << 20) / geometry.blockSize)
        var done = 0
        while done < blockCount {
            let count = min(perChunk, blockCount - done)
            var chunk = ByteBufferAllocator().buffer(capacity: count * geometry.blockSize)
            for _ in 0..<count { chunk.writeImmutableBuffer(pattern) }
            try await write(chunk, at: lba + UInt64(done), fua: false)
            done += count
        }
    }

    /// Atomic among users of this open disk: the disk is open exclusively on one host,
    /// so ordering this host's callers is enough.
    public func compareAndWrite(at lba: UInt64, expected: ByteBuffer, replacement: ByteBuffer) async throws {
        try checkUsable("compare and write", writing: true)
        guard expected.readableBytes == replacement.readableBytes, expected.readableBytes % geometry.blockSize == 0 else {
            throw BlockDeviceError(.invalidArgument, "compare and write on disk '\(name)' needs equal whole-block buffers")
        }
        try await changeLock.withLock {
            let current = try await read(at: lba, blockCount: expected.readableBytes / geometry.blockSize)
            let now = Array(current.readableBytesView)
            let wanted = Array(expected.readableBytesView)
            if let difference = now.indices.first(where: { now[$0] != wanted[$0] }) {
                throw BlockDeviceError(.miscompare, "compare and write at LBA \(lba) of disk '\(name)': data differs at byte \(difference)", miscompareOffset: difference)
            }
        }
        try await write(replacement, at: lba, fua: false)
    }
}
