// An on-disk lock (docs/FORMAT.md, "Lock record"): the sector before each descriptor and bitmap.

import Foundation
import NIOCore

/// Who holds a descriptor or cluster, and how.
struct LockRecord: Sendable, Hashable {
    enum Mode: UInt32, Sendable {
        case free = 0
        case exclusive = 1
        case shared = 2
    }

    static let magic: UInt32 = 0x4B4C_4456  // "VDLK"

    var mode: Mode = .free
    var changeCounter: UInt64 = 0
    var ownerUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    var ownerSlot: UInt32 = 0
    var ownerGeneration: UInt64 = 0
    var acquiredMillis: UInt64 = 0
    /// Bit `i`: slot `i` holds the lock shared.
    var sharedSlots: UInt64 = 0
    /// Low 32 bits of each shared holder's generation, by slot.
    var sharedGenerations = [UInt32](repeating: 0, count: VolumeLayout.maximumHosts)
    var ownerName = ""

    func encoded(sectorSize: Int) -> ByteBuffer {
        var unit = ByteBuffer.zeros(sectorSize)
        unit.setLE(Self.magic, 0)
        unit.setLE(mode.rawValue, 4)
        unit.setLE(changeCounter, 8)
        unit.setUUID(ownerUUID, 16)
        unit.setLE(ownerSlot, 32)
        unit.setLE(ownerGeneration, 40)
        unit.setLE(acquiredMillis, 48)
        unit.setLE(sharedSlots, 56)
        for (slot, generation) in sharedGenerations.enumerated() {
            unit.setLE(generation, 64 + 4 * slot)
        }
        unit.setPaddedString(ownerName, 320, length: 64)
        unit.sealCRC(at: VolumeLayout.recordCRCOffset)
        return unit
    }

    /// `place` names the lock in errors ("lock of descriptor 3").
    static func decode(_ sector: ByteBuffer, place: String) throws -> LockRecord {
        try sector.requireRecord(VolumeLayout.recordSize, place)
        if sector.isAllZero(length: VolumeLayout.recordSize) { return LockRecord() }
        guard (try? sector.le(0, as: UInt32.self)) == magic else {
            throw DatastoreError(.corrupt, "\(place) has no lock magic")
        }
        guard sector.hasValidCRC(at: VolumeLayout.recordCRCOffset) else {
            throw DatastoreError(.corrupt, "\(place) failed its CRC32C check")
        }
        do {
            guard let mode = Mode(rawValue: try sector.le(4)) else {
                throw DatastoreError(.corrupt, "\(place) has an unknown mode")
            }
            var record = LockRecord(
                mode: mode, changeCounter: try sector.le(8), ownerUUID: try sector.uuid(16), ownerSlot: try sector.le(32),
                ownerGeneration: try sector.le(40), acquiredMillis: try sector.le(48), sharedSlots: try sector.le(56),
                ownerName: try sector.paddedString(320, length: 64)
            )
            for slot in 0..<VolumeLayout.maximumHosts {
                record.sharedGenerations[slot] = try sector.le(64 + 4 * slot)
            }
            guard record.ownerSlot < VolumeLayout.maximumHosts else {
                throw DatastoreError(.corrupt, "\(place) names slot \(record.ownerSlot)")
            }
            return record
        } catch is RecordBoundsError {
            throw DatastoreError(.corrupt, "\(place) is truncated")
        }
    }
}
