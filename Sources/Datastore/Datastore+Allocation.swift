// Allocating and freeing file blocks in per-host resource clusters.

import BlockDevice
import NIOCore

extension Datastore {
    /// Takes `count` free blocks, starting in this host's preferred cluster so that
    /// hosts rarely meet on a cluster lock. Clusters a live host holds are skipped
    /// on the first pass and waited for on the second.
    func allocateBlocks(_ count: Int, transaction: MetadataTransaction) async throws -> [UInt64] {
        var found: [UInt64] = []
        let clusters = Int(header.clusterCount)
        let start = state.withLockedValue { $0.preferredCluster }
        for pass in 0..<2 {
            for step in 0..<clusters {
                let index = (start + step) % clusters
                if transaction.bitmaps[index] == nil {
                    do {
                        try await loadCluster(index, transaction: transaction, wait: pass == 1)
                    } catch let error as DatastoreError where error.code == .locked {
                        continue
                    }
                }
                var bitmap = transaction.bitmaps[index]!
                let free = bitmap.freeBlocks(limit: count - found.count)
                guard !free.isEmpty else { continue }
                for block in free { bitmap.set(block, allocated: true) }
                bitmap.changeCounter &+= 1
                transaction.bitmaps[index] = bitmap
                transaction.dirtyBitmaps.insert(index)
                found += free
                if found.count == count {
                    state.withLockedValue { $0.preferredCluster = index }
                    return found
                }
            }
        }
        noteOutOfSpace()
        throw DatastoreError(.noSpace, "\(volumeName) has no free file blocks left (needed \(count))")
    }

    /// Locks cluster `index` for this transaction and reads its bitmap fresh.
    func loadCluster(_ index: Int, transaction: MetadataTransaction, wait: Bool) async throws {
        try await acquireLock(at: header.clusterLockUnit(index), object: "resource cluster \(index)", mode: .exclusive, wait: wait)
        do {
            let bitmap = try Self.bitmap(try await readUnit(at: header.clusterBitmapUnit(index)), cluster: index, header: header)
            transaction.bitmaps[index] = bitmap
            noteClusterSpace([(index, bitmap.freeCount)])
        } catch {
            try? await releaseLock(at: header.clusterLockUnit(index), object: "resource cluster \(index)", mode: .exclusive)
            throw error
        }
    }

    /// Clears `block`'s bit; its UNMAP goes down after the transaction commits.
    func freeBlock(_ block: UInt64, transaction: MetadataTransaction) async throws {
        guard block >= header.firstDataBlock, block < header.endDataBlock else { return }
        let index = header.cluster(ofBlock: block)
        if transaction.bitmaps[index] == nil {
            try await loadCluster(index, transaction: transaction, wait: true)
        }
        transaction.bitmaps[index]!.set(block, allocated: false)
        transaction.bitmaps[index]!.changeCounter &+= 1
        transaction.dirtyBitmaps.insert(index)
        transaction.freedBlocks.append(block)
    }

    /// How many more units a transaction may take before it must be committed, keeping
    /// room for the worst single step (descriptor, three pages, three bitmaps).
    var transactionBudget: Int { JournalTransaction.capacity(journalUnits: Int(header.journalUnits)) - 8 }
}
