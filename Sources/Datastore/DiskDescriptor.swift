// A virtual disk's descriptor (docs/FORMAT.md, "Descriptor"): name, size, kind and block map root.

import Foundation
import NIOCore

/// The descriptor unit that follows a descriptor lock.
struct DiskDescriptor: Sendable, Hashable {
    static let magic: UInt32 = 0x4446_4456  // "VDFD"
    static let maximumNameLength = 255

    var inUse = false
    var uuid = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    var kind: DiskKind = .thin
    var name = ""
    var size: UInt64 = 0
    var createdMillis: UInt64 = 0
    var modifiedMillis: UInt64 = 0
    var allocatedBlocks: UInt64 = 0
    var changeCounter: UInt64 = 0
    /// The file block holding the disk's sidecars (format 1.1); 0 when it has none.
    var sidecarBlock: UInt64 = 0
    var direct = [UInt64](repeating: 0, count: VolumeLayout.directPointers)
    var single = [UInt64](repeating: 0, count: VolumeLayout.singleIndirectPointers)
    var double = [UInt64](repeating: 0, count: VolumeLayout.doubleIndirectPointers)

    /// One block fewer. A damaged count already at 0 stays there rather than trapping;
    /// `check` reports (and `--repair` corrects) the count against the map.
    mutating func countFreedBlock() {
        if allocatedBlocks > 0 { allocatedBlocks -= 1 }
    }

    func encoded() -> ByteBuffer {
        var unit = ByteBuffer.zeros(VolumeLayout.unitSize)
        unit.setLE(Self.magic, 0)
        unit.setLE(UInt32(inUse ? 1 : 0), 4)
        unit.setUUID(uuid, 8)
        unit.setLE(kind.rawValue, 24)
        let nameBytes = Array(name.utf8.prefix(Self.maximumNameLength))
        unit.setLE(UInt32(nameBytes.count), 28)
        unit.setBytes(nameBytes, at: 32)
        unit.setLE(size, 288)
        unit.setLE(createdMillis, 296)
        unit.setLE(modifiedMillis, 304)
        unit.setLE(allocatedBlocks, 312)
        unit.setLE(changeCounter, 320)
        unit.setLE(sidecarBlock, 328)
        for (index, pointer) in direct.enumerated() { unit.setLE(pointer, 384 + 8 * index) }
        for (index, pointer) in single.enumerated() { unit.setLE(pointer, 2432 + 8 * index) }
        for (index, pointer) in double.enumerated() { unit.setLE(pointer, 3456 + 8 * index) }
        unit.sealCRC(at: VolumeLayout.unitCRCOffset)
        return unit
    }

    static func decode(_ unit: ByteBuffer, index: Int) throws -> DiskDescriptor {
        let place = "descriptor \(index)"
        try unit.requireRecord(VolumeLayout.unitSize, place)
        if unit.isAllZero(length: VolumeLayout.unitSize) { return DiskDescriptor() }
        guard (try? unit.le(0, as: UInt32.self)) == magic else {
            throw DatastoreError(.corrupt, "\(place) has no descriptor magic")
        }
        guard unit.hasValidCRC(at: VolumeLayout.unitCRCOffset) else {
            throw DatastoreError(.corrupt, "\(place) failed its CRC32C check")
        }
        do {
            let nameLength = Int(try unit.le(28, as: UInt32.self))
            guard let kind = DiskKind(rawValue: try unit.le(24)), nameLength <= maximumNameLength,
                  let nameBytes = unit.getBytes(at: unit.readerIndex + 32, length: nameLength)
            else {
                throw DatastoreError(.corrupt, "\(place) has a bad kind or name length")
            }
            var descriptor = DiskDescriptor(
                inUse: try unit.le(4, as: UInt32.self) == 1, uuid: try unit.uuid(8), kind: kind,
                name: String(repairing: nameBytes[...], fitting: maximumNameLength), size: try unit.le(288),
                createdMillis: try unit.le(296), modifiedMillis: try unit.le(304),
                allocatedBlocks: try unit.le(312), changeCounter: try unit.le(320), sidecarBlock: try unit.le(328)
            )
            guard descriptor.size <= VolumeLayout.maximumDiskSize, descriptor.size % 512 == 0 else {
                throw DatastoreError(.corrupt, "\(place) has an impossible size \(descriptor.size)")
            }
            for index in 0..<descriptor.direct.count { descriptor.direct[index] = try unit.le(384 + 8 * index) }
            for index in 0..<descriptor.single.count { descriptor.single[index] = try unit.le(2432 + 8 * index) }
            for index in 0..<descriptor.double.count { descriptor.double[index] = try unit.le(3456 + 8 * index) }
            return descriptor
        } catch is RecordBoundsError {
            throw DatastoreError(.corrupt, "\(place) is truncated")
        }
    }
}
