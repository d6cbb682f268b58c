// The first unit of a disk's sidecar block: the names, sizes, places and checksums of the
// disk's sidecars (docs/FORMAT.md, "Sidecar block").

import CCRC32C
import Foundation
import NIOCore

/// What a disk's sidecar block holds: up to `maximumCount` named blobs in the units after
/// this directory, each a run of whole units, with the CRC32C of its content.
struct SidecarDirectory: Sendable, Hashable {
    static let magic: UInt32 = 0x4353_4456  // "VDSC"
    static let maximumCount = 32
    static let maximumNameLength = 64
    /// 8 units: a transaction that creates the block as well (descriptor, bitmap, directory,
    /// content) fits the smallest journal (16 units, 14 images).
    static let maximumBlobSize = 8 * VolumeLayout.unitSize
    static let entryOffset = 64
    static let entrySize = 80

    struct Entry: Sendable, Hashable {
        var name: String
        var length: Int
        /// The first content unit (1… inside the block); 0 for an empty blob.
        var firstUnit: Int
        var crc: UInt32

        var unitCount: Int { (length + VolumeLayout.unitSize - 1) / VolumeLayout.unitSize }
        var units: Range<Int> { firstUnit..<firstUnit + unitCount }
    }

    var diskIndex: UInt32
    var block: UInt64
    var diskUUID: UUID
    var changeCounter: UInt64 = 0
    var entries: [Entry] = []

    /// Names are `filter/key`: 1–64 bytes of printable UTF-8.
    static func validate(name: String) throws {
        guard !name.isEmpty, name.utf8.count <= maximumNameLength,
              !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw DatastoreError(.invalidArgument, "sidecar name '\(name)' must be 1–\(maximumNameLength) bytes of printable UTF-8 (written filter/key)")
        }
    }

    /// A free run of `count` units for `name` among units 1..<`areaUnits`, ignoring the
    /// units `name` itself holds now (the whole transaction replaces them at once).
    func place(_ count: Int, for name: String, areaUnits: Int) -> Int? {
        guard count > 0 else { return 0 }
        var used = [Bool](repeating: false, count: areaUnits)
        for entry in entries where entry.name != name {
            for unit in entry.units where unit < areaUnits { used[unit] = true }
        }
        var start = 1
        while start + count <= areaUnits {
            if let taken = (start..<start + count).last(where: { used[$0] }) {
                start = taken + 1
            } else {
                return start
            }
        }
        return nil
    }

    func encoded() -> ByteBuffer {
        var unit = ByteBuffer.zeros(VolumeLayout.unitSize)
        unit.setLE(Self.magic, 0)
        unit.setLE(diskIndex, 4)
        unit.setLE(block, 8)
        unit.setUUID(diskUUID, 16)
        unit.setLE(changeCounter, 32)
        unit.setLE(UInt32(entries.count), 40)
        for (index, entry) in entries.enumerated() {
            let base = Self.entryOffset + Self.entrySize * index
            unit.setPaddedString(entry.name, base, length: Self.maximumNameLength)
            unit.setLE(UInt32(entry.length), base + 64)
            unit.setLE(UInt32(entry.firstUnit), base + 68)
            unit.setLE(entry.crc, base + 72)
        }
        unit.sealCRC(at: VolumeLayout.unitCRCOffset)
        return unit
    }

    /// Parses and checks the directory of disk `disk` (descriptor `index`, sidecar block
    /// `block`), whose area is `areaUnits` units long including the directory.
    static func decode(_ unit: ByteBuffer, disk: String, index: Int, uuid: UUID, block: UInt64, areaUnits: Int) throws -> SidecarDirectory {
        let place = "sidecar directory of disk '\(disk)' (file block \(block))"
        try unit.requireRecord(VolumeLayout.unitSize, place)
        guard (try? unit.le(0, as: UInt32.self)) == magic else {
            throw DatastoreError(.corrupt, "\(place) has no sidecar magic")
        }
        guard unit.hasValidCRC(at: VolumeLayout.unitCRCOffset) else {
            throw DatastoreError(.corrupt, "\(place) failed its CRC32C check")
        }
        do {
            guard try unit.le(4, as: UInt32.self) == UInt32(index), try unit.le(8, as: UInt64.self) == block,
                  try unit.uuid(16) == uuid
            else {
                throw DatastoreError(.corrupt, "\(place) belongs to another disk or block (misdirected write)")
            }
            let count = Int(try unit.le(40, as: UInt32.self))
            guard count <= maximumCount else {
                throw DatastoreError(.corrupt, "\(place) claims \(count) sidecars (at most \(maximumCount))")
            }
            var directory = SidecarDirectory(diskIndex: UInt32(index), block: block, diskUUID: uuid, changeCounter: try unit.le(32))
            var taken = Set<Int>()
            for slot in 0..<count {
                let base = entryOffset + entrySize * slot
                let entry = Entry(name: try unit.paddedString(base, length: maximumNameLength),
                                  length: Int(try unit.le(base + 64, as: UInt32.self)),
                                  firstUnit: Int(try unit.le(base + 68, as: UInt32.self)), crc: try unit.le(base + 72))
                guard !entry.name.isEmpty, entry.length <= maximumBlobSize,
                      entry.unitCount == 0 || (entry.firstUnit >= 1 && entry.units.upperBound <= areaUnits),
                      taken.isDisjoint(with: entry.units),
                      !directory.entries.contains(where: { $0.name == entry.name })
                else {
                    throw DatastoreError(.corrupt, "\(place) has an impossible entry \(slot) ('\(entry.name)': \(entry.length) bytes at unit \(entry.firstUnit))")
                }
                taken.formUnion(entry.units)
                directory.entries.append(entry)
            }
            return directory
        } catch is RecordBoundsError {
            throw DatastoreError(.corrupt, "\(place) is truncated")
        }
    }

    /// CRC32C of a blob's content (the entry's checksum).
    static func crc(_ content: [UInt8]) -> UInt32 {
        content.withUnsafeBytes { vdisk_crc32c(0, $0.baseAddress, $0.count) }
    }
}
