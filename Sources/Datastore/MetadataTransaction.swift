// The units one metadata change touches, gathered before they are journaled together.

import NIOCore

/// Dirty descriptors, pointer pages, bitmaps and sidecar units of one transaction, plus the
/// file blocks it publishes (to zero first) and frees (to UNMAP after).
/// Used by one task at a time, inside the datastore's metadata lock.
final class MetadataTransaction {
    var descriptors: [Int: DiskDescriptor] = [:]
    var pages: [UInt64: PointerPage] = [:]
    /// Bitmaps whose cluster lock this transaction holds, and whether it changed them.
    var bitmaps: [Int: ClusterBitmap] = [:]
    var dirtyBitmaps: Set<Int> = []
    /// Newly published blocks: nil to zero, or the data that fills them.
    var newBlocks: [(block: UInt64, data: ByteBuffer?)] = []
    var freedBlocks: [UInt64] = []
    /// Pointer blocks allocated here: their pages are known empty without reading them.
    var freshPointerBlocks: Set<UInt64> = []
    /// Logical blocks whose data went out with the allocation (full-block writes).
    var writtenLogical: Set<UInt64> = []
    /// Whole units written as they are: a sidecar block's directory and content.
    var units: [UInt64: ByteBuffer] = [:]

    var unitCount: Int { descriptors.count + pages.count + dirtyBitmaps.count + units.count }
    var isEmpty: Bool { unitCount == 0 }

    /// The images to journal and write home, in a stable order.
    func images(header: VolumeHeader) -> [(offset: UInt64, image: ByteBuffer)] {
        var result: [(UInt64, ByteBuffer)] = []
        for (index, descriptor) in descriptors.sorted(by: { $0.key < $1.key }) {
            result.append((header.descriptorUnit(index), descriptor.encoded()))
        }
        for (offset, page) in pages.sorted(by: { $0.key < $1.key }) {
            result.append((offset, page.encoded()))
        }
        for index in dirtyBitmaps.sorted() {
            result.append((header.clusterBitmapUnit(index), bitmaps[index]!.encoded()))
        }
        for (offset, image) in units.sorted(by: { $0.key < $1.key }) {
            result.append((offset, image))
        }
        return result
    }
}
