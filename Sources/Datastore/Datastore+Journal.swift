// Committing transactions through this host's journal, and replaying a slot's journal.

import BlockDevice
import NIOCore

extension Datastore {
    /// Zero new blocks, journal, write home, retire, unlock clusters, UNMAP freed
    /// blocks: the order docs/FORMAT.md argues is crash-safe. Any failure after the
    /// journal write fences this host, so it never builds on a half-applied change.
    func commit(_ transaction: MetadataTransaction) async throws {
        defer { transaction.dirtyBitmaps = [] }
        guard !transaction.isEmpty else {
            try await releaseClusters(transaction)
            return
        }
        try checkLive("metadata update")
        let images = transaction.images(header: header)
        precondition(images.count <= JournalTransaction.capacity(journalUnits: Int(header.journalUnits)), "transaction too large for the journal")
        let (slot, sequence) = state.withLockedValue { state -> (Int, UInt64) in
            defer { state.nextSequence &+= 1 }
            return (state.slot, state.nextSequence)
        }
        // Only a damaged journal header can bring the sequence this far; a wrapped one
        // would never be replayed.
        guard sequence < UInt64.max else {
            try? await releaseClusters(transaction)
            throw DatastoreError(.corrupt, "journal of host slot \(slot) on \(volumeName) has used every sequence number")
        }
        let record = JournalTransaction(slot: UInt32(slot), sequence: sequence, images: images)
        let journal = header.journalStart(slot: slot)
        do {
            try await publishBlocks(transaction.newBlocks)
            try await writeBytes(record.encoded(), at: journal + UInt64(VolumeLayout.unitSize))
            try await asRegistrant { try await device.flush() }
        } catch {
            await retire(transaction, sequence: sequence, slot: slot)
            throw error
        }
        do {
            try await writeHome(images)
            try checkLive("metadata update")
            try await writeBytes(JournalTransaction.encodedJournalHeader(slot: UInt32(slot), appliedSequence: sequence), at: journal, fua: true)
        } catch {
            fence("host '\(host.name)' could not finish metadata transaction \(sequence) on \(volumeName) (\(error)); another host or the next mount replays it")
            throw error
        }
        transaction.newBlocks = []
        noteClusterSpace(transaction.dirtyBitmaps.compactMap { index in transaction.bitmaps[index].map { (index, $0.freeCount) } })
        try await releaseClusters(transaction)
        let freed = transaction.freedBlocks
        transaction.freedBlocks = []
        if !freed.isEmpty && device.capabilities.contains(.unmap) {
            let perBlock = UInt32(header.fileBlockSizeInt / sectorSize)
            let ranges = freed.sorted().map { BlockRange(lba: $0 * UInt64(perBlock), blockCount: perBlock) }
            try? await device.unmap(ranges)
        }
    }

    /// A transaction that failed before its journal record was known to be durable: the record
    /// may be on disk or not, and nothing of it is home. Its sequence is written into the journal
    /// header as applied, so no replay (a recovering host, this host's next mount) can apply it
    /// later, and only then are its resource-cluster locks released; the blocks it took stay
    /// free on disk. Kept, the locks would keep those clusters from every host until this one
    /// unmounted. When the header cannot be written either (the LUN is away, the host fenced),
    /// the locks are kept after all: while they are held, a replay of the record, if it landed,
    /// applies it over the very state it was made from.
    private func retire(_ transaction: MetadataTransaction, sequence: UInt64, slot: Int) async {
        do {
            try checkLive("retiring metadata transaction \(sequence)")
            let journal = header.journalStart(slot: slot)
            try await writeBytes(JournalTransaction.encodedJournalHeader(slot: UInt32(slot), appliedSequence: sequence), at: journal, fua: true)
        } catch {
            return
        }
        transaction.newBlocks = []
        try? await releaseClusters(transaction)
    }

    /// Runs a step that only builds `transaction` in memory (locks clusters, reads pages,
    /// allocates in the bitmaps it holds). Nothing of it has reached the disk when such a step
    /// throws (out of space, a read failing), so the transaction is dropped and its cluster
    /// locks released before the error goes up; kept, they would block this host's own next
    /// transaction on those clusters ("already open on this host") until it unmounted.
    func building<T>(_ transaction: MetadataTransaction, _ step: () async throws -> T) async throws -> T {
        do {
            return try await step()
        } catch {
            try? await releaseClusters(transaction)
            transaction.dirtyBitmaps = []
            throw error
        }
    }

    func releaseClusters(_ transaction: MetadataTransaction) async throws {
        for index in transaction.bitmaps.keys.sorted() {
            try await releaseLock(at: header.clusterLockUnit(index), object: "resource cluster \(index)", mode: .exclusive)
        }
        transaction.bitmaps = [:]
    }

    /// Checks the lease before every unit: a host paused mid-transaction (SIGSTOP, a frozen
    /// VM) whose locks were broken meanwhile must not write stale images over newer ones.
    private func writeHome(_ images: [(offset: UInt64, image: ByteBuffer)]) async throws {
        for (offset, image) in images {
            try checkLive("metadata update")
            try await writeBytes(image, at: offset)
        }
        try await asRegistrant { try await device.flush() }
    }

    /// Step 2: a block is zero (or full of its data) before any pointer names it.
    private func publishBlocks(_ blocks: [(block: UInt64, data: ByteBuffer?)]) async throws {
        guard !blocks.isEmpty else { return }
        let perBlock = header.fileBlockSizeInt / sectorSize
        let zeroUnmaps = device.capabilities.isSuperset(of: [.writeSameUnmap, .unmappedReadsZero])
        for (block, data) in blocks.sorted(by: { $0.block < $1.block }) {
            let lba = block * UInt64(perBlock)
            if let data {
                try await writeAsRegistrant(data, at: lba, fua: false)
            } else if device.capabilities.contains(.writeSame) {
                try await asRegistrant { try await device.writeSame(ByteBuffer.zeros(sectorSize), at: lba, blockCount: perBlock, unmap: zeroUnmaps) }
            } else {
                try await writeAsRegistrant(ByteBuffer.zeros(header.fileBlockSizeInt), at: lba, fua: false)
            }
        }
        try await asRegistrant { try await device.flush() }
    }

    /// Applies `slot`'s pending transaction, if any, and retires it.
    /// Returns whether one was replayed and the highest sequence seen.
    func replayJournal(slot: Int) async throws -> (replayed: Bool, lastSequence: UInt64) {
        let journal = header.journalStart(slot: slot)
        let capacity = JournalTransaction.capacity(journalUnits: Int(header.journalUnits))
        let applied = try JournalTransaction.decodeJournalHeader(try await readUnit(at: journal), slot: slot)
        let txHeader = try await readUnit(at: journal + UInt64(VolumeLayout.unitSize))
        guard let (sequence, entries) = JournalTransaction.decodeHeader(txHeader, slot: slot, capacity: capacity) else {
            return (false, applied)
        }
        guard sequence > applied else { return (false, max(applied, sequence)) }
        let images = try await readUnits(at: journal + 2 * UInt64(VolumeLayout.unitSize), count: entries.count)
        var writes: [(offset: UInt64, image: ByteBuffer)] = []
        for (index, (offset, crc)) in entries.enumerated() {
            let image = images.getSlice(at: images.readerIndex + index * VolumeLayout.unitSize, length: VolumeLayout.unitSize)!
            // A torn or foreign transaction is one that never committed: ignore it whole.
            guard header.isJournalTarget(offset), image.crc32c(length: VolumeLayout.unitSize) == crc else {
                return (false, max(applied, sequence))
            }
            writes.append((offset, image))
        }
        try await writeHome(writes)
        try await writeBytes(JournalTransaction.encodedJournalHeader(slot: UInt32(slot), appliedSequence: sequence), at: journal, fua: true)
        return (true, sequence)
    }
}
