// Free space as this host sees it: every cluster's free count, read at mount, refreshed each time
// this host locks a cluster and after each of its commits. Crossing the soft threshold (and back)
// and running out are reported to the mount's observer as they happen.

import BlockDevice
import NIOCore

extension Datastore {
    /// Free file blocks of each cluster, read from the bitmaps (without locking).
    static func clusterFreeCounts(device: any BlockDevice, header: VolumeHeader) async throws -> [Int] {
        let sectorSize = device.geometry.blockSize
        var counts: [Int] = []
        for index in 0..<Int(header.clusterCount) {
            let unit = try await device.read(at: header.clusterBitmapUnit(index) / UInt64(sectorSize), blockCount: VolumeLayout.unitSize / sectorSize)
            counts.append(try bitmap(unit, cluster: index, header: header).freeCount)
        }
        return counts
    }

    /// Decodes cluster `index`'s bitmap unit, checked against the blocks the cluster covers.
    static func bitmap(_ unit: ByteBuffer, cluster index: Int, header: VolumeHeader) throws -> ClusterBitmap {
        let first = header.firstDataBlock + UInt64(index) * UInt64(header.clusterBlocks)
        let count = UInt32(min(UInt64(header.clusterBlocks), header.endDataBlock - first))
        return try ClusterBitmap.decode(unit, index: index, firstBlock: first, blockCount: count)
    }

    /// Free blocks in the whole volume (reads every bitmap, without locking).
    static func countFreeBlocks(device: any BlockDevice, header: VolumeHeader) async throws -> UInt64 {
        UInt64(try await clusterFreeCounts(device: device, header: header).reduce(0, +))
    }

    /// File blocks for disk data in the volume.
    public var dataBlocks: UInt64 { header.endDataBlock - header.firstDataBlock }

    /// Free file blocks: exact for what this host allocated and freed, and for every cluster as
    /// of the last time this host locked it; other hosts' changes elsewhere show up later.
    public var freeBlocks: UInt64 {
        UInt64(state.withLockedValue { $0.clusterFree.reduce(0, +) })
    }

    /// Reads every cluster's free count; called once at mount, after the slot is taken, so it
    /// never fails the mount: a bitmap that cannot be read or decoded counts as no free blocks
    /// (allocation cannot use it either), and `check` names the damage.
    func loadSpace() async {
        var counts: [(Int, Int)] = []
        for index in 0..<Int(header.clusterCount) {
            let bitmap = try? Self.bitmap(try await readUnit(at: header.clusterBitmapUnit(index)), cluster: index, header: header)
            counts.append((index, bitmap?.freeCount ?? 0))
        }
        noteClusterSpace(counts)
    }

    /// Takes in fresh free counts (cluster index, free blocks) and reports a crossing of the soft threshold.
    func noteClusterSpace(_ counts: [(Int, Int)]) {
        let total = dataBlocks
        let event = state.withLockedValue { state -> DatastoreEvent? in
            if state.clusterFree.count != Int(header.clusterCount) {
                state.clusterFree = [Int](repeating: 0, count: Int(header.clusterCount))
            }
            for (index, free) in counts where index < state.clusterFree.count {
                state.clusterFree[index] = free
            }
            let free = UInt64(state.clusterFree.reduce(0, +))
            if free > 0 { state.outOfSpace = false }
            guard let threshold = options.spaceWarningPercent, total > 0 else { return nil }
            let used = (total - min(free, total)) * 100 / total
            let low = used >= UInt64(threshold)
            guard low != state.spaceLow else { return nil }
            state.spaceLow = low
            let space = DatastoreSpace(freeBytes: free * UInt64(fileBlockSize), totalBytes: total * UInt64(fileBlockSize), thresholdPercent: threshold)
            return low ? .spaceLow(space) : .spaceRecovered(space)
        }
        if let event { report(event) }
    }

    /// An allocation found no free block: reported once until space comes back.
    func noteOutOfSpace() {
        let first = state.withLockedValue { state -> Bool in
            defer { state.outOfSpace = true }
            for index in state.clusterFree.indices { state.clusterFree[index] = 0 }
            return !state.outOfSpace
        }
        guard first else { return }
        let total = dataBlocks * UInt64(fileBlockSize)
        report(.outOfSpace(DatastoreSpace(freeBytes: 0, totalBytes: total, thresholdPercent: options.spaceWarningPercent)))
    }
}
