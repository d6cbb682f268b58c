// One 4 KiB page of a pointer block (docs/FORMAT.md, "Block map").

import NIOCore

/// 509 file-block pointers with the page's own identity, so a misdirected write is caught.
struct PointerPage: Sendable, Hashable {
    static let magic: UInt32 = 0x5050_4456  // "VDPP"

    var pageIndex: UInt32
    var ownerBlock: UInt64
    var pointers: [UInt64]

    init(pageIndex: UInt32, ownerBlock: UInt64, pointers: [UInt64] = [UInt64](repeating: 0, count: VolumeLayout.pointersPerPage)) {
        self.pageIndex = pageIndex
        self.ownerBlock = ownerBlock
        self.pointers = pointers
    }

    func encoded() -> ByteBuffer {
        var unit = ByteBuffer.zeros(VolumeLayout.unitSize)
        unit.setLE(Self.magic, 0)
        unit.setLE(pageIndex, 4)
        unit.setLE(ownerBlock, 8)
        for (index, pointer) in pointers.enumerated() { unit.setLE(pointer, 16 + 8 * index) }
        unit.sealCRC(at: VolumeLayout.unitCRCOffset)
        return unit
    }

    /// An all-zero page is an empty one: pointer blocks are zeroed before they are published.
    static func decode(_ unit: ByteBuffer, pageIndex: Int, ownerBlock: UInt64) throws -> PointerPage {
        try unit.requireRecord(VolumeLayout.unitSize, "pointer block \(ownerBlock) page \(pageIndex)")
        if unit.isAllZero(length: VolumeLayout.unitSize) {
            return PointerPage(pageIndex: UInt32(pageIndex), ownerBlock: ownerBlock)
        }
        let place = "pointer block \(ownerBlock) page \(pageIndex)"
        guard (try? unit.le(0, as: UInt32.self)) == magic else {
            throw DatastoreError(.corrupt, "\(place) has no pointer page magic")
        }
        guard unit.hasValidCRC(at: VolumeLayout.unitCRCOffset) else {
            throw DatastoreError(.corrupt, "\(place) failed its CRC32C check")
        }
        do {
            guard try unit.le(4, as: UInt32.self) == UInt32(pageIndex), try unit.le(8, as: UInt64.self) == ownerBlock else {
                throw DatastoreError(.corrupt, "\(place) carries another page's identity (misdirected write)")
            }
            var pointers = [UInt64](repeating: 0, count: VolumeLayout.pointersPerPage)
            for index in 0..<pointers.count { pointers[index] = try unit.le(16 + 8 * index) }
            return PointerPage(pageIndex: UInt32(pageIndex), ownerBlock: ownerBlock, pointers: pointers)
        } catch is RecordBoundsError {
            throw DatastoreError(.corrupt, "\(place) is truncated")
        }
    }
}
