// The volume header: written at format in unit 0 and in the device's last unit.

import Foundation
import NIOCore

/// Volume-wide parameters and region offsets (docs/FORMAT.md, "Volume header").
struct VolumeHeader: Sendable, Hashable {
    static let magic: [UInt8] = Array("VDSKVOL1".utf8)

    var majorVersion = VolumeLayout.majorVersion
    var minorVersion = VolumeLayout.minorVersion
    var isBackup = false
    var uuid: UUID
    var label: String
    var lunBlockSize: UInt32
    var fileBlockSize: UInt32
    var lockMode: LockMode
    var maxHosts: UInt32
    var maxDisks: UInt32
    var clusterBlocks: UInt32
    var journalUnits: UInt32
    var heartbeatOffset: UInt64
    var journalOffset: UInt64
    var descriptorOffset: UInt64
    var clusterOffset: UInt64
    var dataOffset: UInt64
    var dataBlockCount: UInt64
    var clusterCount: UInt64
    var volumeSize: UInt64
    var createdMillis: UInt64
    var backupOffset: UInt64

    func encoded() -> ByteBuffer {
        var unit = ByteBuffer.zeros(VolumeLayout.unitSize)
        unit.setBytes(Self.magic, at: 0)
        unit.setLE(majorVersion, 8)
        unit.setLE(minorVersion, 10)
        unit.setLE(UInt32(isBackup ? 1 : 0), 12)
        unit.setUUID(uuid, 16)
        unit.setPaddedString(label, 32, length: 64)
        unit.setLE(UInt32(VolumeLayout.unitSize), 96)
        unit.setLE(lunBlockSize, 100)
        unit.setLE(fileBlockSize, 104)
        unit.setLE(lockMode.rawValue, 108)
        unit.setLE(maxHosts, 112)
        unit.setLE(maxDisks, 116)
        unit.setLE(clusterBlocks, 120)
        unit.setLE(journalUnits, 124)
        unit.setLE(heartbeatOffset, 128)
        unit.setLE(journalOffset, 136)
        unit.setLE(descriptorOffset, 144)
        unit.setLE(clusterOffset, 152)
        unit.setLE(dataOffset, 160)
        unit.setLE(dataBlockCount, 168)
        unit.setLE(clusterCount, 176)
        unit.setLE(volumeSize, 184)
        unit.setLE(createdMillis, 192)
        unit.setLE(backupOffset, 200)
        unit.sealCRC(at: VolumeLayout.recordCRCOffset)
        return unit
    }

    /// Parses and validates one copy; `where` names it in errors ("primary header at offset 0").
    static func decode(_ unit: ByteBuffer, where place: String, deviceSize: UInt64) throws -> VolumeHeader {
        try unit.requireRecord(VolumeLayout.recordSize, place)
        guard unit.getBytes(at: unit.readerIndex, length: 8) == magic else {
            throw DatastoreError(.notFormatted, "\(place) has no datastore magic")
        }
        guard unit.hasValidCRC(at: VolumeLayout.recordCRCOffset) else {
            throw DatastoreError(.corrupt, "\(place) failed its CRC32C check")
        }
        do {
            let major: UInt16 = try unit.le(8)
            guard major == VolumeLayout.majorVersion else {
                throw DatastoreError(.unsupportedVersion, "\(place) is format version \(major).\(try unit.le(10, as: UInt16.self)); this host reads version \(VolumeLayout.majorVersion).x only")
            }
            guard let mode = LockMode(rawValue: try unit.le(108)) else {
                throw DatastoreError(.corrupt, "\(place) has an unknown lock mode \(try unit.le(108, as: UInt32.self))")
            }
            let header = VolumeHeader(
                majorVersion: major, minorVersion: try unit.le(10), isBackup: try unit.le(12, as: UInt32.self) == 1,
                uuid: try unit.uuid(16), label: try unit.paddedString(32, length: 64),
                lunBlockSize: try unit.le(100), fileBlockSize: try unit.le(104), lockMode: mode,
                maxHosts: try unit.le(112), maxDisks: try unit.le(116), clusterBlocks: try unit.le(120),
                journalUnits: try unit.le(124), heartbeatOffset: try unit.le(128), journalOffset: try unit.le(136),
                descriptorOffset: try unit.le(144), clusterOffset: try unit.le(152), dataOffset: try unit.le(160),
                dataBlockCount: try unit.le(168), clusterCount: try unit.le(176), volumeSize: try unit.le(184),
                createdMillis: try unit.le(192), backupOffset: try unit.le(200)
            )
            try header.validate(place: place, deviceSize: deviceSize)
            return header
        } catch is RecordBoundsError {
            throw DatastoreError(.corrupt, "\(place) is truncated")
        }
    }

    /// Bounds checks: a header with a good CRC can still describe an impossible layout.
    func validate(place: String, deviceSize: UInt64) throws {
        let unit = UInt64(VolumeLayout.unitSize)
        func fail(_ what: String) -> DatastoreError {
            DatastoreError(.corrupt, "\(place) describes an impossible layout: \(what)")
        }
        let fb = UInt64(fileBlockSize)
        guard fileBlockSize >= VolumeLayout.minimumFileBlockSize, fileBlockSize <= VolumeLayout.maximumFileBlockSize,
              fileBlockSize & (fileBlockSize - 1) == 0 else { throw fail("file block size \(fileBlockSize)") }
        guard maxHosts >= 1, maxHosts <= VolumeLayout.maximumHosts else { throw fail("max hosts \(maxHosts)") }
        guard maxDisks >= 1, maxDisks <= 1 << 20 else { throw fail("max disks \(maxDisks)") }
        guard clusterBlocks >= 8, clusterBlocks <= VolumeLayout.maximumClusterBlocks, clusterBlocks % 8 == 0 else {
            throw fail("cluster blocks \(clusterBlocks)")
        }
        guard journalUnits >= VolumeLayout.minimumJournalUnits, journalUnits <= VolumeLayout.maximumJournalUnits else { throw fail("journal units \(journalUnits)") }
        // The fields before here are small, so these sums cannot overflow; the counts
        // below are any 64-bit value, so they are checked against the device first.
        guard volumeSize >= 2 * unit, volumeSize <= deviceSize, backupOffset == volumeSize - unit else {
            throw fail("volume of \(volumeSize) bytes does not fit the device of \(deviceSize) bytes")
        }
        guard clusterCount <= volumeSize / (2 * unit), dataBlockCount <= volumeSize / fb else {
            throw fail("\(clusterCount) clusters of \(dataBlockCount) blocks do not fit a volume of \(volumeSize) bytes")
        }
        guard heartbeatOffset == unit,
              journalOffset == heartbeatOffset + UInt64(maxHosts) * unit,
              descriptorOffset == journalOffset + UInt64(maxHosts) * UInt64(journalUnits) * unit,
              clusterOffset == descriptorOffset + UInt64(maxDisks) * 2 * unit,
              dataOffset >= clusterOffset, (dataOffset - clusterOffset) / (2 * unit) >= clusterCount, dataOffset % fb == 0
        else { throw fail("region offsets out of order") }
        guard clusterCount == (dataBlockCount + UInt64(clusterBlocks) - 1) / UInt64(clusterBlocks) else {
            throw fail("cluster count \(clusterCount) for \(dataBlockCount) blocks")
        }
        guard dataOffset <= backupOffset, dataBlockCount <= (backupOffset - dataOffset) / fb else {
            throw fail("\(dataBlockCount) data blocks from offset \(dataOffset) run past the backup header at \(backupOffset)")
        }
    }

    var fileBlockSizeInt: Int { Int(fileBlockSize) }
    var firstDataBlock: UInt64 { dataOffset / UInt64(fileBlockSize) }
    var endDataBlock: UInt64 { firstDataBlock + dataBlockCount }
    func heartbeatUnit(slot: Int) -> UInt64 { heartbeatOffset + UInt64(slot * VolumeLayout.unitSize) }
    func journalStart(slot: Int) -> UInt64 { journalOffset + UInt64(slot) * UInt64(journalUnits) * UInt64(VolumeLayout.unitSize) }
    func descriptorLockUnit(_ index: Int) -> UInt64 { descriptorOffset + UInt64(2 * index * VolumeLayout.unitSize) }
    func descriptorUnit(_ index: Int) -> UInt64 { descriptorLockUnit(index) + UInt64(VolumeLayout.unitSize) }
    func clusterLockUnit(_ index: Int) -> UInt64 { clusterOffset + UInt64(2 * index * VolumeLayout.unitSize) }
    func clusterBitmapUnit(_ index: Int) -> UInt64 { clusterLockUnit(index) + UInt64(VolumeLayout.unitSize) }
    func cluster(ofBlock block: UInt64) -> Int { Int((block - firstDataBlock) / UInt64(clusterBlocks)) }
    /// Pointers per pointer block.
    var pointersPerBlock: Int { fileBlockSizeInt / VolumeLayout.unitSize * VolumeLayout.pointersPerPage }

    /// True for units the journal may target: descriptors, bitmaps and pointer pages, never locks or heartbeats.
    func isJournalTarget(_ offset: UInt64) -> Bool {
        let unit = UInt64(VolumeLayout.unitSize)
        guard offset % unit == 0 else { return false }
        if offset >= descriptorOffset && offset < clusterOffset + clusterCount * 2 * unit {
            let index = (offset - (offset >= clusterOffset ? clusterOffset : descriptorOffset)) / unit
            return index % 2 == 1
        }
        return offset >= dataOffset && offset < dataOffset + dataBlockCount * UInt64(fileBlockSize)
    }
}
