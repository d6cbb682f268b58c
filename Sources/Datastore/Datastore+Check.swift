// Verifying every structure and cross-checking block maps against bitmaps; repairing
// what is safe to repair.

import BlockDevice
import NIOCore

extension Datastore {
    /// Reads every structure, reports damage, leaks, double allocations and orphans.
    /// With `repair`, fixes what is safe (leaks, counts, orphans, the backup header,
    /// pending journals of dead hosts) and lists each fix; it refuses while other
    /// hosts are live, since their in-flight transactions look like damage.
    public func check(repair: Bool = false) async throws -> CheckReport {
        try await metadataLock.withLock {
            try checkLive("check")
            var report = CheckReport()
            let liveOthers = try await otherLiveSlots()
            report.otherHostsLive = !liveOthers.isEmpty
            if repair && !liveOthers.isEmpty {
                throw DatastoreError(.busy, "repair of \(volumeName) needs every other host unmounted; live slots: \(liveOthers)")
            }
            try await checkHeaders(&report, repair: repair)
            for slot in 0..<Int(header.maxHosts) {
                let sector = try await readSector(at: header.heartbeatUnit(slot: slot))
                let record: HeartbeatRecord
                do { record = try HeartbeatRecord.decode(sector, slot: slot) } catch let error as DatastoreError {
                    report.add(.badChecksum, error.message); continue
                }
                // A live host's journal may hold the transaction it is applying right now.
                if slot != self.slot, record.state != .live, let pending = try? await pendingSequence(slot: slot) {
                    report.add(.pendingJournal, "journal of host slot \(slot) holds transaction \(pending), not yet applied")
                    if repair {
                        _ = try await replayJournal(slot: slot)
                        report.repairs.append("replayed transaction \(pending) of host slot \(slot)")
                    }
                }
            }
            let (disks, damaged) = try await readDescriptorsReportingDamage()
            for (_, error) in damaged.sorted(by: { $0.key < $1.key }) { report.add(.badChecksum, error.message) }
            for index in 0..<Int(header.maxDisks) {
                do {
                    _ = try LockRecord.decode(try await readSector(at: header.descriptorLockUnit(index)), place: "lock of descriptor \(index)")
                } catch let error as DatastoreError { report.add(.badChecksum, error.message) }
            }
            var names: [String: Int] = [:]
            var owners: [UInt64: String] = [:]
            var orphans: [(Int, [UInt64])] = []
            var counts: [Int: UInt64] = [:]
            for (index, descriptor) in disks.sorted(by: { $0.key < $1.key }) {
                if let other = names[descriptor.name] {
                    report.add(.duplicateName, "descriptors \(other) and \(index) are both named '\(descriptor.name)'")
                }
                names[descriptor.name] = index
                let walk = try await walkMap(descriptor, tolerant: true)
                for problem in walk.problems { report.add(.badChecksum, problem) }
                var used = walk.data.map(\.physical) + walk.pointerBlocks.map(\.block)
                if descriptor.sidecarBlock != 0 {
                    used.append(descriptor.sidecarBlock)
                    // Reported, never repaired: a filter's state is not guessed at.
                    for problem in try await sidecarProblems(descriptor, index: index) { report.add(.badSidecar, problem) }
                }
                for block in used {
                    if let owner = owners[block] {
                        report.add(.doubleAllocated, "file block \(block) is used by \(owner) and by disk '\(descriptor.name)'")
                    }
                    owners[block] = "disk '\(descriptor.name)'"
                }
                let limit = blocks(for: descriptor.size)
                let beyond = walk.data.filter { $0.logical >= limit }.map(\.logical)
                if !beyond.isEmpty {
                    report.add(.orphan, "disk '\(descriptor.name)' maps \(beyond.count) blocks past its size of \(descriptor.size) bytes")
                    orphans.append((index, beyond))
                }
                if UInt64(used.count) != descriptor.allocatedBlocks && walk.problems.isEmpty {
                    report.add(.countMismatch, "disk '\(descriptor.name)' says it holds \(descriptor.allocatedBlocks) blocks but its map names \(used.count)")
                    counts[index] = UInt64(used.count)
                }
            }
            var leaked: [UInt64] = []
            var unmarked: [UInt64] = []
            for index in 0..<Int(header.clusterCount) {
                let first = header.firstDataBlock + UInt64(index) * UInt64(header.clusterBlocks)
                let count = UInt32(min(UInt64(header.clusterBlocks), header.endDataBlock - first))
                let bitmap: ClusterBitmap
                do {
                    bitmap = try ClusterBitmap.decode(try await readUnit(at: header.clusterBitmapUnit(index)), index: index, firstBlock: first, blockCount: count)
                } catch let error as DatastoreError {
                    report.add(.badChecksum, error.message); continue
                }
                for block in first..<first + UInt64(count) {
                    let used = owners[block] != nil
                    if used && !bitmap.isAllocated(block) {
                        report.add(.referencedButFree, "file block \(block) is used by \(owners[block]!) but marked free in cluster \(index)")
                        unmarked.append(block)
                    } else if !used && bitmap.isAllocated(block) {
                        leaked.append(block)
                    }
                }
            }
            if !leaked.isEmpty {
                report.add(.leakedBlock, "\(leaked.count) file blocks are marked allocated but no disk uses them (first: \(leaked.prefix(8).map(String.init).joined(separator: ", ")))")
            }
            if repair {
                try await repairMaps(orphans: orphans, counts: counts, disks: disks, report: &report)
                try await repairBitmaps(leaked: leaked, unmarked: unmarked, report: &report)
            }
            return report
        }
    }

    private func otherLiveSlots() async throws -> [Int] {
        var live: [Int] = []
        for slot in 0..<Int(header.maxHosts) where slot != self.slot {
            guard let record = try? HeartbeatRecord.decode(try await readSector(at: header.heartbeatUnit(slot: slot)), slot: slot),
                  record.state == .live else { continue }
            if case .alive = try await holderState(slot: slot, generation: record.generation) { live.append(slot) }
        }
        return live
    }

    private func pendingSequence(slot: Int) async throws -> UInt64? {
        let journal = header.journalStart(slot: slot)
        let applied = try JournalTransaction.decodeJournalHeader(try await readUnit(at: journal), slot: slot)
        let capacity = JournalTransaction.capacity(journalUnits: Int(header.journalUnits))
        guard let (sequence, _) = JournalTransaction.decodeHeader(try await readUnit(at: journal + UInt64(VolumeLayout.unitSize)), slot: slot, capacity: capacity),
              sequence > applied else { return nil }
        return sequence
    }

    private func checkHeaders(_ report: inout CheckReport, repair: Bool) async throws {
        let size = device.geometry.byteCount
        let primary = try? VolumeHeader.decode(try await readUnit(at: 0), where: "the primary volume header", deviceSize: size)
        let backup = try? VolumeHeader.decode(try await readUnit(at: header.backupOffset), where: "the backup volume header", deviceSize: size)
        var good = header
        good.isBackup = false
        if primary != good {
            report.add(.badHeader, "the primary volume header is damaged or differs from the backup")
            if repair {
                try await writeBytes(good.encoded(), at: 0, fua: true)
                report.repairs.append("rewrote the primary volume header from the good copy")
            }
        }
        good.isBackup = true
        if backup != good {
            report.add(.badHeader, "the backup volume header at offset \(header.backupOffset) is damaged or differs from the primary")
            if repair {
                try await writeBytes(good.encoded(), at: header.backupOffset, fua: true)
                report.repairs.append("rewrote the backup volume header from the good copy")
            }
        }
    }

    private func repairMaps(orphans: [(Int, [UInt64])], counts: [Int: UInt64], disks: [Int: DiskDescriptor], report: inout CheckReport) async throws {
        for (index, logical) in orphans {
            let descriptor = try DiskDescriptor.decode(try await readUnit(at: header.descriptorUnit(index)), index: index)
            _ = try await free(index: index, descriptor: descriptor, logical: logical, cache: nil)
            report.repairs.append("freed \(logical.count) blocks mapped past the end of disk '\(descriptor.name)'")
        }
        for (index, count) in counts {
            var descriptor = try DiskDescriptor.decode(try await readUnit(at: header.descriptorUnit(index)), index: index)
            descriptor.allocatedBlocks = count
            descriptor.changeCounter &+= 1
            let transaction = MetadataTransaction()
            transaction.descriptors[index] = descriptor
            try await commit(transaction)
            report.repairs.append("set the block count of disk '\(descriptor.name)' to \(count)")
        }
    }

    private func repairBitmaps(leaked: [UInt64], unmarked: [UInt64], report: inout CheckReport) async throws {
        guard !leaked.isEmpty || !unmarked.isEmpty else { return }
        var transaction = MetadataTransaction()
        for (block, allocated) in leaked.map({ ($0, false) }) + unmarked.map({ ($0, true) }) {
            if transaction.unitCount >= transactionBudget {
                try await commit(transaction)
                transaction = MetadataTransaction()
            }
            let index = header.cluster(ofBlock: block)
            if transaction.bitmaps[index] == nil { try await loadCluster(index, transaction: transaction, wait: true) }
            transaction.bitmaps[index]!.set(block, allocated: allocated)
            transaction.bitmaps[index]!.changeCounter &+= 1
            transaction.dirtyBitmaps.insert(index)
        }
        try await commit(transaction)
        if !leaked.isEmpty { report.repairs.append("freed \(leaked.count) leaked file blocks") }
        if !unmarked.isEmpty { report.repairs.append("marked \(unmarked.count) used file blocks as allocated") }
    }
}
