// Disk lifecycle: create, list, open, grow, rename, delete; and the map changes
// (allocate, free) that open disks ask for.

import BlockDevice
import Foundation
import NIOCore

extension Datastore {
    /// In-use descriptors by slot; unreadable ones are returned apart, so one bad
    /// descriptor does not hide the others.
    func readDescriptors() async throws -> [Int: DiskDescriptor] {
        try await readDescriptorsReportingDamage().disks
    }

    func readDescriptorsReportingDamage() async throws -> (disks: [Int: DiskDescriptor], damaged: [Int: DatastoreError]) {
        var disks: [Int: DiskDescriptor] = [:]
        var damaged: [Int: DatastoreError] = [:]
        let perRead = 128
        var index = 0
        while index < Int(header.maxDisks) {
            let count = min(perRead, Int(header.maxDisks) - index)
            let raw = try await readUnits(at: header.descriptorLockUnit(index), count: 2 * count)
            for offset in 0..<count {
                let unit = raw.getSlice(at: raw.readerIndex + (2 * offset + 1) * VolumeLayout.unitSize, length: VolumeLayout.unitSize)!
                do {
                    let descriptor = try DiskDescriptor.decode(unit, index: index + offset)
                    if descriptor.inUse { disks[index + offset] = descriptor }
                } catch let error as DatastoreError {
                    damaged[index + offset] = error
                }
            }
            index += count
        }
        return (disks, damaged)
    }

    func findDisk(_ name: String) async throws -> (Int, DiskDescriptor) {
        let (disks, damaged) = try await readDescriptorsReportingDamage()
        if let found = disks.first(where: { $0.value.name == name }) { return (found.key, found.value) }
        if let (index, error) = damaged.first {
            throw DatastoreError(.notFound, "no disk named '\(name)' on \(volumeName); descriptor \(index) is unreadable and might be it: \(error.message)")
        }
        throw DatastoreError(.notFound, "no disk named '\(name)' on \(volumeName)")
    }

    static func validateName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= DiskDescriptor.maximumNameLength,
              !name.contains("/"), !name.utf8.contains(0)
        else {
            throw DatastoreError(.invalidArgument, "disk name '\(name)' must be 1–255 bytes without '/' or NUL")
        }
    }

    func validateSize(_ size: UInt64, name: String) throws {
        guard size > 0, size % 512 == 0, size <= VolumeLayout.maximumDiskSize else {
            throw DatastoreError(.invalidArgument, "size \(size) of disk '\(name)' must be a positive multiple of 512 bytes up to 64 TiB")
        }
    }

    func blocks(for size: UInt64) -> UInt64 {
        (size + UInt64(header.fileBlockSize) - 1) / UInt64(header.fileBlockSize)
    }

    public func listDisks() async throws -> [DiskInfo] {
        try checkLive("listing disks")
        return try await readDescriptors().sorted { $0.key < $1.key }
            .map { DiskInfo($0.value, index: $0.key, fileBlockSize: header.fileBlockSizeInt) }
    }

    public func diskInfo(name: String) async throws -> DiskInfo {
        try checkLive("reading disk '\(name)'")
        let (index, descriptor) = try await findDisk(name)
        return DiskInfo(descriptor, index: index, fileBlockSize: header.fileBlockSizeInt)
    }

    /// Creates a disk of `size` bytes. An eager-zeroed disk gets (and zeroes) all its blocks now.
    @discardableResult
    public func createDisk(name: String, size: UInt64, kind: DiskKind = .thin) async throws -> DiskInfo {
        try Self.validateName(name)
        try validateSize(size, name: name)
        return try await metadataLock.withLock {
            try checkLive("creating disk '\(name)'")
            let (disks, damaged) = try await readDescriptorsReportingDamage()
            if disks.values.contains(where: { $0.name == name }) {
                throw DatastoreError(.alreadyExists, "a disk named '\(name)' already exists on \(volumeName)")
            }
            for index in 0..<Int(header.maxDisks) where disks[index] == nil && damaged[index] == nil {
                let object = "descriptor \(index)"
                do {
                    try await acquireLock(at: header.descriptorLockUnit(index), object: object, mode: .exclusive, wait: false)
                } catch let error as DatastoreError where error.code == .locked {
                    continue
                }
                // Another host may have used the slot between our scan and our lock.
                let fresh = try DiskDescriptor.decode(try await readUnit(at: header.descriptorUnit(index)), index: index)
                if fresh.inUse {
                    try await releaseLock(at: header.descriptorLockUnit(index), object: object, mode: .exclusive)
                    continue
                }
                let now = options.clock.wallMillis()
                var descriptor = DiskDescriptor(inUse: true, uuid: UUID(), kind: kind, name: name, size: size,
                                                createdMillis: now, modifiedMillis: now, changeCounter: fresh.changeCounter &+ 1)
                do {
                    let transaction = MetadataTransaction()
                    transaction.descriptors[index] = descriptor
                    try await commit(transaction)
                    if kind == .eagerZeroed {
                        descriptor = try await allocate(index: index, descriptor: descriptor, logical: Array(0..<blocks(for: size)), data: [:], cache: nil).descriptor
                    }
                } catch {
                    try? await releaseLock(at: header.descriptorLockUnit(index), object: object, mode: .exclusive)
                    throw error
                }
                try await releaseLock(at: header.descriptorLockUnit(index), object: object, mode: .exclusive)
                return DiskInfo(descriptor, index: index, fileBlockSize: header.fileBlockSizeInt)
            }
            throw DatastoreError(.noSpace, "\(volumeName) has no free descriptor for disk '\(name)' (all \(header.maxDisks) in use or locked)")
        }
    }

    /// Opens a disk; fails with `.locked` ("locked by host H since T") when another live host holds it.
    public func openDisk(name: String, mode: DiskOpenMode = .exclusive, blockSize: Int = 512) async throws -> VirtualDisk {
        try await metadataLock.withLock {
            try checkLive("opening disk '\(name)'")
            let (index, _) = try await findDisk(name)
            if state.withLockedValue({ $0.openDisks[index] }) != nil {
                throw DatastoreError(.locked, "disk '\(name)' on \(volumeName) is already open on this host")
            }
            try await acquireLock(at: header.descriptorLockUnit(index), object: "disk '\(name)'", mode: mode == .exclusive ? .exclusive : .shared, wait: false)
            do {
                // Read again under the lock: the copy found above may predate the last holder's changes.
                let descriptor = try DiskDescriptor.decode(try await readUnit(at: header.descriptorUnit(index)), index: index)
                guard descriptor.inUse, descriptor.name == name else {
                    throw DatastoreError(.notFound, "disk '\(name)' on \(volumeName) was deleted or renamed while it was being opened")
                }
                let disk = VirtualDisk(datastore: self, index: index, descriptor: descriptor, mode: mode, blockSize: blockSize)
                state.withLockedValue { $0.openDisks[index] = mode }
                return disk
            } catch {
                try? await releaseDescriptorLock(index: index, mode: mode)
                throw error
            }
        }
    }

    func closeDisk(index: Int, mode: DiskOpenMode) async throws {
        try await metadataLock.withLock {
            guard state.withLockedValue({ $0.openDisks.removeValue(forKey: index) }) != nil else { return }
            try await releaseDescriptorLock(index: index, mode: mode)
        }
    }

    /// Runs `body` with disk `name` locked exclusively: by the open handle when this host
    /// has it open, or by a lock taken just for the operation.
    private func withDiskLocked<T: Sendable>(_ name: String, _ operation: String,
                                             _ body: (Int, DiskDescriptor) async throws -> T) async throws -> T {
        try await metadataLock.withLock {
            try checkLive("\(operation) disk '\(name)'")
            let (index, _) = try await findDisk(name)
            if let mode = state.withLockedValue({ $0.openDisks[index] }) {
                guard mode == .exclusive else {
                    throw DatastoreError(.readOnly, "disk '\(name)' is open read-only on this host; close it to \(operation) it")
                }
                let descriptor = try DiskDescriptor.decode(try await readUnit(at: header.descriptorUnit(index)), index: index)
                return try await body(index, descriptor)
            }
            try await acquireLock(at: header.descriptorLockUnit(index), object: "disk '\(name)'", mode: .exclusive, wait: false)
            do {
                let descriptor = try DiskDescriptor.decode(try await readUnit(at: header.descriptorUnit(index)), index: index)
                let result = try await body(index, descriptor)
                try await releaseDescriptorLock(index: index, mode: .exclusive)
                return result
            } catch {
                try? await releaseDescriptorLock(index: index, mode: .exclusive)
                throw error
            }
        }
    }

    public func renameDisk(name: String, to newName: String) async throws {
        try Self.validateName(newName)
        try await withDiskLocked(name, "rename") { index, descriptor in
            if try await readDescriptors().values.contains(where: { $0.name == newName }) {
                throw DatastoreError(.alreadyExists, "a disk named '\(newName)' already exists on \(volumeName)")
            }
            var renamed = descriptor
            renamed.name = newName
            try await commitDescriptor(renamed, index: index)
        }
    }

    /// Grows a disk (never shrinks it); an eager-zeroed disk gets its new blocks zeroed now.
    public func growDisk(name: String, to size: UInt64) async throws {
        try await withDiskLocked(name, "grow") { index, descriptor in
            _ = try await grow(index: index, descriptor: descriptor, to: size, cache: nil)
        }
    }

    func grow(index: Int, descriptor: DiskDescriptor, to size: UInt64, cache: BlockMapCache?) async throws -> DiskDescriptor {
        try validateSize(size, name: descriptor.name)
        guard size >= descriptor.size else {
            throw DatastoreError(.invalidArgument, "disk '\(descriptor.name)' is \(descriptor.size) bytes; shrinking to \(size) is not supported")
        }
        var grown = descriptor
        grown.size = size
        try await commitDescriptor(grown, index: index)
        if grown.kind == .eagerZeroed {
            grown = try await allocate(index: index, descriptor: grown, logical: Array(blocks(for: descriptor.size)..<blocks(for: size)), data: [:], cache: cache).descriptor
        }
        return grown
    }

    private func commitDescriptor(_ descriptor: DiskDescriptor, index: Int) async throws {
        var changed = descriptor
        changed.modifiedMillis = options.clock.wallMillis()
        changed.changeCounter &+= 1
        let transaction = MetadataTransaction()
        transaction.descriptors[index] = changed
        try await commit(transaction)
    }

    /// Frees every block of a disk and then its descriptor.
    public func deleteDisk(name: String) async throws {
        try await withDiskLocked(name, "delete") { index, descriptor in
            if state.withLockedValue({ $0.openDisks[index] }) != nil {
                throw DatastoreError(.busy, "disk '\(name)' is open on this host; close it before deleting it")
            }
            let walk = try await walkMap(descriptor, tolerant: false)
            var current = try await free(index: index, descriptor: descriptor, logical: walk.data.map(\.logical), cache: nil)
            // Second-level pointer blocks first (cleared in their parent), then the roots.
            let transaction = MetadataTransaction()
            transaction.descriptors[index] = current
            for (root, parentEntry, block) in walk.pointerBlocks.reversed() {
                if transaction.unitCount >= transactionBudget {
                    try await commitChecked(transaction, index: index)
                    current = transaction.descriptors[index]!
                    transaction.descriptors = [index: current]
                    transaction.pages = [:]
                }
                if let parentEntry {
                    let parent = current.rootPointer(root)
                    let pageIndex = parentEntry / VolumeLayout.pointersPerPage
                    let offset = BlockMapPath.pageOffset(pointerBlock: parent, entry: parentEntry, fileBlockSize: header.fileBlockSizeInt)
                    var page: PointerPage
                    if let dirty = transaction.pages[offset] {
                        page = dirty
                    } else {
                        page = try await loadPage(pointerBlock: parent, pageIndex: pageIndex)
                    }
                    page.pointers[parentEntry % VolumeLayout.pointersPerPage] = 0
                    transaction.pages[offset] = page
                } else {
                    transaction.descriptors[index]!.setRootPointer(root, 0)
                }
                transaction.descriptors[index]!.countFreedBlock()
                try await freeBlock(block, transaction: transaction)
                current = transaction.descriptors[index]!
            }
            // The sidecar block and the descriptor go in the last transaction: until then the
            // disk (and its filters' state) still exists.
            if current.sidecarBlock != 0 {
                try await building(transaction) { try await freeBlock(current.sidecarBlock, transaction: transaction) }
            }
            var gone = DiskDescriptor()
            gone.changeCounter = current.changeCounter &+ 1
            transaction.descriptors[index] = gone
            try await commit(transaction)
        }
    }

    private func commitChecked(_ transaction: MetadataTransaction, index: Int) async throws {
        transaction.descriptors[index]!.modifiedMillis = options.clock.wallMillis()
        transaction.descriptors[index]!.changeCounter &+= 1
        try await commit(transaction)
    }

    /// Gives each hole among `logical` a new block: zeroed, or filled with `data[n]`
    /// when the caller has the whole block. Returns the new descriptor and the logical
    /// blocks whose data was written here.
    func allocate(index: Int, descriptor: DiskDescriptor, logical: [UInt64], data: [UInt64: ByteBuffer],
                  cache: BlockMapCache?, onCommit: ((DiskDescriptor) -> Void)? = nil) async throws -> (descriptor: DiskDescriptor, written: Set<UInt64>) {
        var transaction = MetadataTransaction()
        transaction.descriptors[index] = descriptor
        var written: Set<UInt64> = []
        func flush() async throws {
            try await commitChecked(transaction, index: index)
            let committed = transaction.descriptors[index]!
            for (offset, page) in transaction.pages { cache?.insert(page: offset, pointers: page.pointers) }
            written.formUnion(transaction.writtenLogical)
            onCommit?(committed)
            transaction = MetadataTransaction()
            transaction.descriptors[index] = committed
        }
        for block in logical {
            let current = transaction
            if try await building(current, { try await resolve(block, descriptor: current.descriptors[index]!, cache: cache, transaction: current) }) != 0 { continue }
            if transaction.unitCount >= transactionBudget || transaction.newBlocks.count >= 256 {
                try await flush()
            }
            let next = transaction
            try await building(next) {
                let physical = try await allocateBlocks(1, transaction: next)[0]
                next.newBlocks.append((physical, data[block]))
                if data[block] != nil { next.writtenLogical.insert(block) }
                try await setPointer(block, to: physical, index: index, transaction: next, cache: cache)
                next.descriptors[index]!.allocatedBlocks &+= 1
            }
        }
        if transaction.newBlocks.isEmpty && transaction.dirtyBitmaps.isEmpty {
            try await releaseClusters(transaction)
        } else {
            try await flush()
        }
        return (transaction.descriptors[index]!, written)
    }

    /// Turns each of `logical` back into a hole and frees its block.
    func free(index: Int, descriptor: DiskDescriptor, logical: [UInt64], cache: BlockMapCache?,
              onCommit: ((DiskDescriptor) -> Void)? = nil) async throws -> DiskDescriptor {
        var transaction = MetadataTransaction()
        transaction.descriptors[index] = descriptor
        func flush() async throws {
            try await commitChecked(transaction, index: index)
            let committed = transaction.descriptors[index]!
            for (offset, page) in transaction.pages { cache?.insert(page: offset, pointers: page.pointers) }
            onCommit?(committed)
            transaction = MetadataTransaction()
            transaction.descriptors[index] = committed
        }
        var changed = false
        for block in logical {
            let current = transaction
            let physical = try await building(current) { try await resolve(block, descriptor: current.descriptors[index]!, cache: cache, transaction: current) }
            guard physical != 0 else { continue }
            if transaction.unitCount >= transactionBudget { try await flush() }
            let next = transaction
            try await building(next) {
                try await setPointer(block, to: 0, index: index, transaction: next, cache: cache)
                try await freeBlock(physical, transaction: next)
                next.descriptors[index]!.countFreedBlock()
            }
            changed = true
        }
        if changed { try await flush() } else { try await releaseClusters(transaction) }
        return transaction.descriptors[index]!
    }
}
