// A redo transaction in a host's journal, and the journal header that retires it
// (docs/FORMAT.md, "Journal").

import NIOCore

/// Whole-unit images of metadata, with their home offsets, under one sequence number.
struct JournalTransaction: Sendable {
    static let magic: UInt32 = 0x544A_4456  // "VDJT"
    static let headerMagic: UInt32 = 0x484A_4456  // "VDJH"
    static let entryOffset = 32
    static let entrySize = 16

    var slot: UInt32
    var sequence: UInt64
    var images: [(offset: UInt64, image: ByteBuffer)]

    /// Most images one transaction may hold in a journal of `journalUnits` units.
    static func capacity(journalUnits: Int) -> Int {
        min(journalUnits - 2, (VolumeLayout.unitCRCOffset - entryOffset) / entrySize)
    }

    /// The header unit followed by every image, ready for one contiguous write.
    func encoded() -> ByteBuffer {
        var header = ByteBuffer.zeros(VolumeLayout.unitSize)
        header.setLE(Self.magic, 0)
        header.setLE(slot, 4)
        header.setLE(sequence, 8)
        header.setLE(UInt32(images.count), 16)
        for (index, entry) in images.enumerated() {
            header.setLE(entry.offset, Self.entryOffset + Self.entrySize * index)
            header.setLE(entry.image.crc32c(length: VolumeLayout.unitSize), Self.entryOffset + Self.entrySize * index + 8)
        }
        header.sealCRC(at: VolumeLayout.unitCRCOffset)
        var all = ByteBuffer.zeros(0)
        all.reserveCapacity(VolumeLayout.unitSize * (1 + images.count))
        all.writeImmutableBuffer(header)
        for entry in images { all.writeImmutableBuffer(entry.image) }
        return all
    }

    /// Reads the header's entries; nil when the header is not a valid transaction of `slot`.
    static func decodeHeader(_ unit: ByteBuffer, slot: Int, capacity: Int) -> (sequence: UInt64, entries: [(UInt64, UInt32)])? {
        guard (try? unit.le(0, as: UInt32.self)) == magic, unit.hasValidCRC(at: VolumeLayout.unitCRCOffset),
              (try? unit.le(4, as: UInt32.self)) == UInt32(slot),
              let sequence = try? unit.le(8, as: UInt64.self), sequence < UInt64.max,
              let count = try? unit.le(16, as: UInt32.self), count >= 1, Int(count) <= capacity
        else { return nil }
        var entries: [(UInt64, UInt32)] = []
        for index in 0..<Int(count) {
            guard let offset = try? unit.le(entryOffset + entrySize * index, as: UInt64.self),
                  let crc = try? unit.le(entryOffset + entrySize * index + 8, as: UInt32.self)
            else { return nil }
            entries.append((offset, crc))
        }
        return (sequence, entries)
    }

    /// The journal header unit: which sequence is known to be in place.
    static func encodedJournalHeader(slot: UInt32, appliedSequence: UInt64) -> ByteBuffer {
        var unit = ByteBuffer.zeros(VolumeLayout.unitSize)
        unit.setLE(headerMagic, 0)
        unit.setLE(slot, 4)
        unit.setLE(appliedSequence, 8)
        unit.sealCRC(at: VolumeLayout.recordCRCOffset)
        return unit
    }

    /// The applied sequence; an all-zero header means none yet.
    static func decodeJournalHeader(_ unit: ByteBuffer, slot: Int) throws -> UInt64 {
        try unit.requireRecord(VolumeLayout.recordSize, "journal header of host slot \(slot)")
        if unit.isAllZero(length: VolumeLayout.recordSize) { return 0 }
        guard (try? unit.le(0, as: UInt32.self)) == headerMagic, unit.hasValidCRC(at: VolumeLayout.recordCRCOffset),
              (try? unit.le(4, as: UInt32.self)) == UInt32(slot),
              let applied = try? unit.le(8, as: UInt64.self)
        else {
            throw DatastoreError(.corrupt, "journal header of host slot \(slot) failed its magic, slot or CRC32C check")
        }
        // The next transaction's sequence must be above it.
        guard applied < UInt64.max else {
            throw DatastoreError(.corrupt, "journal header of host slot \(slot) has an impossible applied sequence \(applied)")
        }
        return applied
    }
}
