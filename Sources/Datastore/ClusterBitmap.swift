// A resource cluster's allocation bitmap (docs/FORMAT.md, "Resource cluster").

import NIOCore

/// Which of a cluster's file blocks are allocated.
struct ClusterBitmap: Sendable, Hashable {
    static let magic: UInt32 = 0x4352_4456  // "VDRC"

    var index: UInt32
    var firstBlock: UInt64
    var blockCount: UInt32
    var changeCounter: UInt64 = 0
    var bits: [UInt8]

    init(index: UInt32, firstBlock: UInt64, blockCount: UInt32) {
        self.index = index
        self.firstBlock = firstBlock
        self.blockCount = blockCount
        self.bits = [UInt8](repeating: 0, count: (Int(blockCount) + 7) / 8)
    }

    var freeCount: Int {
        Int(blockCount) - bits.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    func isAllocated(_ block: UInt64) -> Bool {
        let bit = Int(block - firstBlock)
        return bits[bit / 8] & (1 << (bit % 8)) != 0
    }

    mutating func set(_ block: UInt64, allocated: Bool) {
        let bit = Int(block - firstBlock)
        if allocated { bits[bit / 8] |= 1 << (bit % 8) } else { bits[bit / 8] &= ~(1 << (bit % 8)) }
    }

    func contains(_ block: UInt64) -> Bool {
        block >= firstBlock && block < firstBlock + UInt64(blockCount)
    }

    /// Free blocks in ascending order, at most `limit`.
    func freeBlocks(limit: Int) -> [UInt64] {
        var found: [UInt64] = []
        var bit = 0
        while bit < Int(blockCount) && found.count < limit {
            if bits[bit / 8] == 0xFF { bit += 8; continue }
            if bits[bit / 8] & (1 << (bit % 8)) == 0 { found.append(firstBlock + UInt64(bit)) }
            bit += 1
        }
        return found
    }

    func encoded() -> ByteBuffer {
        var unit = ByteBuffer.zeros(VolumeLayout.unitSize)
        unit.setLE(Self.magic, 0)
        unit.setLE(index, 4)
        unit.setLE(firstBlock, 8)
        unit.setLE(blockCount, 16)
        unit.setLE(UInt32(freeCount), 20)
        unit.setLE(changeCounter, 24)
        unit.setBytes(bits, at: 32)
        unit.sealCRC(at: VolumeLayout.unitCRCOffset)
        return unit
    }

    /// Parses and checks the cluster against what the header says it must cover.
    static func decode(_ unit: ByteBuffer, index: Int, firstBlock: UInt64, blockCount: UInt32) throws -> ClusterBitmap {
        let place = "bitmap of resource cluster \(index)"
        try unit.requireRecord(VolumeLayout.unitSize, place)
        guard (try? unit.le(0, as: UInt32.self)) == magic else {
            throw DatastoreError(.corrupt, "\(place) has no bitmap magic")
        }
        guard unit.hasValidCRC(at: VolumeLayout.unitCRCOffset) else {
            throw DatastoreError(.corrupt, "\(place) failed its CRC32C check")
        }
        do {
            guard try unit.le(4, as: UInt32.self) == UInt32(index), try unit.le(8, as: UInt64.self) == firstBlock,
                  try unit.le(16, as: UInt32.self) == blockCount
            else {
                throw DatastoreError(.corrupt, "\(place) describes another cluster (misdirected write)")
            }
            var bitmap = ClusterBitmap(index: UInt32(index), firstBlock: firstBlock, blockCount: blockCount)
            bitmap.changeCounter = try unit.le(24)
            guard let bits = unit.getBytes(at: unit.readerIndex + 32, length: bitmap.bits.count) else {
                throw RecordBoundsError(offset: 32, length: bitmap.bits.count)
            }
            // Bits past a short last cluster stand for no block: set, they would count as
            // allocated blocks the cluster does not have.
            if blockCount % 8 != 0, bits[bits.count - 1] >> (blockCount % 8) != 0 {
                throw DatastoreError(.corrupt, "\(place) marks blocks past its last block \(firstBlock + UInt64(blockCount) - 1)")
            }
            bitmap.bits = bits
            guard try unit.le(20, as: UInt32.self) == UInt32(bitmap.freeCount) else {
                throw DatastoreError(.corrupt, "\(place) has a free count that disagrees with its bits")
            }
            return bitmap
        } catch is RecordBoundsError {
            throw DatastoreError(.corrupt, "\(place) is truncated")
        }
    }
}
