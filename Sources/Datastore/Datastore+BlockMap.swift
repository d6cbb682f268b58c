// Reading and changing a disk's block map inside a transaction, and walking a whole map.

import BlockDevice
import NIOCore

extension Datastore {
    func checkDataBlock(_ block: UInt64, disk: String) throws {
        guard block >= header.firstDataBlock, block < header.endDataBlock else {
            throw DatastoreError(.corrupt, "disk '\(disk)': pointer to file block \(block) lies outside the data region")
        }
    }

    func loadPage(pointerBlock: UInt64, pageIndex: Int) async throws -> PointerPage {
        let offset = pointerBlock * UInt64(header.fileBlockSize) + UInt64(pageIndex * VolumeLayout.unitSize)
        return try PointerPage.decode(try await readUnit(at: offset), pageIndex: pageIndex, ownerBlock: pointerBlock)
    }

    /// The page as this transaction sees it: its own copy, an empty fresh page, the cache, or the LUN.
    private func transactionPage(pointerBlock: UInt64, pageIndex: Int, transaction: MetadataTransaction, cache: BlockMapCache?) async throws -> PointerPage {
        let offset = pointerBlock * UInt64(header.fileBlockSize) + UInt64(pageIndex * VolumeLayout.unitSize)
        if let page = transaction.pages[offset] { return page }
        if transaction.freshPointerBlocks.contains(pointerBlock) {
            return PointerPage(pageIndex: UInt32(pageIndex), ownerBlock: pointerBlock)
        }
        let page = try await loadPage(pointerBlock: pointerBlock, pageIndex: pageIndex)
        cache?.insert(page: offset, pointers: page.pointers)
        return page
    }

    /// The physical file block behind logical block `logical`, or 0 for a hole.
    func resolve(_ logical: UInt64, descriptor: DiskDescriptor, cache: BlockMapCache?, transaction: MetadataTransaction? = nil) async throws -> UInt64 {
        guard let path = BlockMapPath(block: logical, pointersPerBlock: header.pointersPerBlock) else { return 0 }
        var pointer = descriptor.rootPointer(path.root)
        for entry in path.entries {
            if pointer == 0 { return 0 }
            try checkDataBlock(pointer, disk: descriptor.name)
            let pageIndex = entry / VolumeLayout.pointersPerPage
            let slot = entry % VolumeLayout.pointersPerPage
            let offset = BlockMapPath.pageOffset(pointerBlock: pointer, entry: entry, fileBlockSize: header.fileBlockSizeInt)
            if let transaction {
                pointer = try await transactionPage(pointerBlock: pointer, pageIndex: pageIndex, transaction: transaction, cache: cache).pointers[slot]
            } else if let cached = cache?.pointer(page: offset, entry: slot) {
                pointer = cached
            } else {
                let page = try await loadPage(pointerBlock: pointer, pageIndex: pageIndex)
                cache?.insert(page: offset, pointers: page.pointers)
                pointer = page.pointers[slot]
            }
        }
        if pointer != 0 { try checkDataBlock(pointer, disk: descriptor.name) }
        return pointer
    }

    /// Points logical block `logical` of descriptor `index` (already in the transaction)
    /// at `value`, allocating missing pointer blocks when `value` is not 0.
    func setPointer(_ logical: UInt64, to value: UInt64, index: Int, transaction: MetadataTransaction, cache: BlockMapCache?) async throws {
        let name = transaction.descriptors[index]!.name
        guard let path = BlockMapPath(block: logical, pointersPerBlock: header.pointersPerBlock) else {
            throw DatastoreError(.invalidArgument, "disk '\(name)': logical block \(logical) is past what a block map can address")
        }
        if path.entries.isEmpty {
            transaction.descriptors[index]!.setRootPointer(path.root, value)
            return
        }
        var pointer = transaction.descriptors[index]!.rootPointer(path.root)
        if pointer == 0 {
            if value == 0 { return }
            pointer = try await newPointerBlock(transaction)
            transaction.descriptors[index]!.setRootPointer(path.root, pointer)
            transaction.descriptors[index]!.allocatedBlocks &+= 1
        }
        try checkDataBlock(pointer, disk: name)
        for (level, entry) in path.entries.enumerated() {
            let pageIndex = entry / VolumeLayout.pointersPerPage
            let slot = entry % VolumeLayout.pointersPerPage
            let offset = BlockMapPath.pageOffset(pointerBlock: pointer, entry: entry, fileBlockSize: header.fileBlockSizeInt)
            var page = try await transactionPage(pointerBlock: pointer, pageIndex: pageIndex, transaction: transaction, cache: cache)
            if level == path.entries.count - 1 {
                page.pointers[slot] = value
                transaction.pages[offset] = page
                return
            }
            var next = page.pointers[slot]
            if next == 0 {
                if value == 0 { return }
                next = try await newPointerBlock(transaction)
                page.pointers[slot] = next
                transaction.pages[offset] = page
                transaction.descriptors[index]!.allocatedBlocks &+= 1
            }
            try checkDataBlock(next, disk: name)
            pointer = next
        }
    }

    private func newPointerBlock(_ transaction: MetadataTransaction) async throws -> UInt64 {
        let block = try await allocateBlocks(1, transaction: transaction)[0]
        transaction.freshPointerBlocks.insert(block)
        transaction.newBlocks.append((block, nil))
        return block
    }

    /// Every block a descriptor names, reading each pointer block once. Bad pages
    /// are skipped and described in `problems` when `tolerant`, thrown otherwise.
    func walkMap(_ descriptor: DiskDescriptor, tolerant: Bool) async throws -> MapWalk {
        var walk = MapWalk()
        var visited: Set<UInt64> = []
        let p = UInt64(header.pointersPerBlock)
        let direct = UInt64(VolumeLayout.directPointers)
        let single = UInt64(VolumeLayout.singleIndirectPointers)
        for (index, block) in descriptor.direct.enumerated() where block != 0 {
            walk.data.append((UInt64(index), block))
        }
        // A pointer block named twice is reported by the caller (double allocation);
        // reading it again could only repeat its entries, up to P² times under a double root.
        func entries(of block: UInt64) async throws -> [UInt64]? {
            guard visited.insert(block).inserted else { return nil }
            do {
                try checkDataBlock(block, disk: descriptor.name)
                let pages = header.fileBlockSizeInt / VolumeLayout.unitSize
                let raw = try await readUnits(at: block * UInt64(header.fileBlockSize), count: pages)
                var result: [UInt64] = []
                result.reserveCapacity(Int(p))
                for page in 0..<pages {
                    let unit = raw.getSlice(at: raw.readerIndex + page * VolumeLayout.unitSize, length: VolumeLayout.unitSize)!
                    result += try PointerPage.decode(unit, pageIndex: page, ownerBlock: block).pointers
                }
                return result
            } catch let error as DatastoreError where tolerant {
                walk.problems.append("disk '\(descriptor.name)': \(error.message)")
                return nil
            }
        }
        for (index, block) in descriptor.single.enumerated() where block != 0 {
            walk.pointerBlocks.append((.single(index), nil, block))
            guard let pointers = try await entries(of: block) else { continue }
            for (entry, data) in pointers.enumerated() where data != 0 {
                walk.data.append((direct + UInt64(index) * p + UInt64(entry), data))
            }
        }
        for (index, block) in descriptor.double.enumerated() where block != 0 {
            walk.pointerBlocks.append((.double(index), nil, block))
            guard let children = try await entries(of: block) else { continue }
            for (childEntry, child) in children.enumerated() where child != 0 {
                walk.pointerBlocks.append((.double(index), childEntry, child))
                guard let pointers = try await entries(of: child) else { continue }
                let base = direct + single * p + UInt64(index) * p * p + UInt64(childEntry) * p
                for (entry, data) in pointers.enumerated() where data != 0 {
                    walk.data.append((base + UInt64(entry), data))
                }
            }
        }
        for (logical, physical) in walk.data where physical < header.firstDataBlock || physical >= header.endDataBlock {
            let problem = "disk '\(descriptor.name)': logical block \(logical) points at file block \(physical), outside the data region"
            if !tolerant { throw DatastoreError(.corrupt, problem) }
            walk.problems.append(problem)
        }
        return walk
    }
}
