// Every on-disk record decoder refuses truncated, foreign, checksum-failed and out-of-range
// records with a .corrupt error naming the structure and what was wrong.

@testable import Datastore
import Foundation
import NIOCore
import Testing

@Suite struct RecordDecodingTests {
    /// `unit` with `bytes` written at `offset` and, when `reseal`, its CRC32C at `crcOffset` recomputed.
    static func patched(_ unit: ByteBuffer, at offset: Int, _ bytes: [UInt8], resealing crcOffset: Int?) -> ByteBuffer {
        var copy = unit
        copy.setBytes(bytes, at: copy.readerIndex + offset)
        if let crcOffset { copy.sealCRC(at: crcOffset) }
        return copy
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian, Array.init)
    }

    /// The corrupt error `body` throws; fails the test when it returns or throws something else.
    func corruption(_ body: () throws -> Void) -> String? {
        do {
            try body()
            Issue.record("the damaged record decoded")
        } catch let error as DatastoreError {
            #expect(error.code == .corrupt)
            return error.message
        } catch {
            Issue.record("threw \(error) instead of a DatastoreError")
        }
        return nil
    }

    static let header = VolumeHeader(
        uuid: UUID(), label: "rec", lunBlockSize: 512, fileBlockSize: 65536, lockMode: .ats, maxHosts: 2, maxDisks: 4,
        clusterBlocks: 8, journalUnits: 16, heartbeatOffset: 4096, journalOffset: 12288, descriptorOffset: 143_360,
        clusterOffset: 176_128, dataOffset: 262_144, dataBlockCount: 59, clusterCount: 8, volumeSize: 4 << 20,
        createdMillis: 1, backupOffset: (4 << 20) - 4096
    )

    func decodeHeader(_ unit: ByteBuffer) throws {
        _ = try VolumeHeader.decode(unit, where: "the primary volume header", deviceSize: 4 << 20)
    }

    @Test func aValidHeaderDecodesToItself() throws {
        #expect(try VolumeHeader.decode(Self.header.encoded(), where: "h", deviceSize: 4 << 20) == Self.header)
    }

    @Test func headerDamageIsNamed() {
        let unit = Self.header.encoded()
        let record = VolumeLayout.recordCRCOffset
        #expect(corruption { try decodeHeader(unit.getSlice(at: 0, length: 300)!) } == "the primary volume header is truncated: 300 of 512 bytes")
        #expect(corruption { try decodeHeader(Self.patched(unit, at: 40, [0xEE], resealing: nil)) } == "the primary volume header failed its CRC32C check")
        #expect(corruption { try decodeHeader(Self.patched(unit, at: 108, Self.le(UInt32(9)), resealing: record)) } == "the primary volume header has an unknown lock mode 9")
        #expect(corruption { try decodeHeader(Self.patched(unit, at: 112, Self.le(UInt32(0)), resealing: record)) }
            == "the primary volume header describes an impossible layout: max hosts 0")
        #expect(corruption { try decodeHeader(Self.patched(unit, at: 124, Self.le(UInt32(4)), resealing: record)) }
            == "the primary volume header describes an impossible layout: journal units 4")
        // Counts of 2^64 − 1 once overflowed the layout arithmetic (a trap, not an error).
        #expect(corruption { try decodeHeader(Self.patched(unit, at: 176, Self.le(UInt64.max), resealing: record)) }
            == "the primary volume header describes an impossible layout: 18446744073709551615 clusters of 59 blocks do not fit a volume of 4194304 bytes")
        #expect(corruption { try decodeHeader(Self.patched(unit, at: 168, Self.le(UInt64.max), resealing: record)) }
            == "the primary volume header describes an impossible layout: 8 clusters of 18446744073709551615 blocks do not fit a volume of 4194304 bytes")
        // A volume size of 0 once underflowed computing the backup header's place.
        #expect(corruption { try decodeHeader(Self.patched(unit, at: 184, Self.le(UInt64(0)), resealing: record)) }
            == "the primary volume header describes an impossible layout: volume of 0 bytes does not fit the device of 4194304 bytes")
        #expect(corruption { try decodeHeader(Self.patched(unit, at: 168, Self.le(UInt64(56)), resealing: record)) }
            == "the primary volume header describes an impossible layout: cluster count 8 for 56 blocks")
        #expect(corruption { try decodeHeader(Self.patched(unit, at: 168, Self.le(UInt64(61)), resealing: record)) }
            == "the primary volume header describes an impossible layout: 61 data blocks from offset 262144 run past the backup header at 4190208")
    }

    @Test func headerFromAnotherMajorVersionNamesBoth() {
        let unit = Self.patched(Self.header.encoded(), at: 8, Self.le(UInt16(2)), resealing: VolumeLayout.recordCRCOffset)
        #expect(throws: DatastoreError.self) { try decodeHeader(unit) }
        do { try decodeHeader(unit) } catch let error as DatastoreError {
            #expect(error.code == .unsupportedVersion)
            // The header under test is this version's (minor 1) with its major patched to 2.
            #expect(error.message == "the primary volume header is format version 2.\(VolumeLayout.minorVersion); this host reads version 1.x only")
        } catch { Issue.record("\(error)") }
    }

    @Test func notFormattedIsNotCorrupt() {
        #expect(throws: DatastoreError.self) { try decodeHeader(ByteBuffer.zeros(4096)) }
        do { try decodeHeader(ByteBuffer.zeros(4096)) } catch let error as DatastoreError {
            #expect(error.code == .notFormatted)
            #expect(error.message == "the primary volume header has no datastore magic")
        } catch { Issue.record("\(error)") }
    }

    @Test func labelOfInvalidUTF8IsRepairedToFitItsField() throws {
        // 64 bytes of 0xFF: 64 replacement characters would need 192 bytes.
        let unit = Self.patched(Self.header.encoded(), at: 32, [UInt8](repeating: 0xFF, count: 64), resealing: VolumeLayout.recordCRCOffset)
        let header = try VolumeHeader.decode(unit, where: "h", deviceSize: 4 << 20)
        #expect(header.label == String(repeating: "\u{FFFD}", count: 21))
        #expect(try VolumeHeader.decode(header.encoded(), where: "h", deviceSize: 4 << 20) == header)
    }

    @Test func heartbeatDamageIsNamed() throws {
        let record = HeartbeatRecord(slot: 1, state: .live, hostName: "h", generation: 3, counter: 9)
        let sector = record.encoded(sectorSize: 512)
        #expect(try HeartbeatRecord.decode(sector, slot: 1) == record)
        #expect(corruption { _ = try HeartbeatRecord.decode(sector.getSlice(at: 0, length: 100)!, slot: 1) } == "heartbeat slot 1 is truncated: 100 of 512 bytes")
        #expect(corruption { _ = try HeartbeatRecord.decode(Self.patched(sector, at: 0, Array("VDLK".utf8), resealing: 508), slot: 1) } == "heartbeat slot 1 has no heartbeat magic")
        #expect(corruption { _ = try HeartbeatRecord.decode(Self.patched(sector, at: 104, [1], resealing: nil), slot: 1) } == "heartbeat slot 1 failed its CRC32C check")
        #expect(corruption { _ = try HeartbeatRecord.decode(sector, slot: 2) } == "heartbeat slot 2 has a bad state or slot number")
        #expect(corruption { _ = try HeartbeatRecord.decode(Self.patched(sector, at: 8, Self.le(UInt32(3)), resealing: 508), slot: 1) } == "heartbeat slot 1 has a bad state or slot number")
        // A generation of 2^64 − 1 once trapped the next mount's "+ 1".
        #expect(corruption { _ = try HeartbeatRecord.decode(Self.patched(sector, at: 96, Self.le(UInt64.max), resealing: 508), slot: 1) }
            == "heartbeat slot 1 has an impossible generation 18446744073709551615")
    }

    @Test func lockDamageIsNamed() throws {
        let sector = LockRecord(mode: .exclusive, changeCounter: UInt64.max, ownerSlot: 1, ownerName: "h").encoded(sectorSize: 512)
        #expect(try LockRecord.decode(sector, place: "lock of descriptor 0").changeCounter == UInt64.max)
        #expect(corruption { _ = try LockRecord.decode(sector.getSlice(at: 0, length: 511)!, place: "lock of descriptor 0") } == "lock of descriptor 0 is truncated: 511 of 512 bytes")
        #expect(corruption { _ = try LockRecord.decode(Self.patched(sector, at: 0, [0], resealing: 508), place: "lock of descriptor 0") } == "lock of descriptor 0 has no lock magic")
        #expect(corruption { _ = try LockRecord.decode(Self.patched(sector, at: 8, [0], resealing: nil), place: "lock of descriptor 0") } == "lock of descriptor 0 failed its CRC32C check")
        #expect(corruption { _ = try LockRecord.decode(Self.patched(sector, at: 4, Self.le(UInt32(7)), resealing: 508), place: "lock of descriptor 0") } == "lock of descriptor 0 has an unknown mode")
        #expect(corruption { _ = try LockRecord.decode(Self.patched(sector, at: 32, Self.le(UInt32(64)), resealing: 508), place: "lock of descriptor 0") } == "lock of descriptor 0 names slot 64")
    }

    @Test func descriptorDamageIsNamed() throws {
        let descriptor = DiskDescriptor(inUse: true, uuid: UUID(), kind: .thin, name: "vm", size: 1 << 20)
        let unit = descriptor.encoded()
        let crc = VolumeLayout.unitCRCOffset
        #expect(try DiskDescriptor.decode(unit, index: 3) == descriptor)
        #expect(corruption { _ = try DiskDescriptor.decode(unit.getSlice(at: 0, length: 4092)!, index: 3) } == "descriptor 3 is truncated: 4092 of 4096 bytes")
        #expect(corruption { _ = try DiskDescriptor.decode(Self.patched(unit, at: 0, Array("VDPP".utf8), resealing: crc), index: 3) } == "descriptor 3 has no descriptor magic")
        #expect(corruption { _ = try DiskDescriptor.decode(Self.patched(unit, at: 384, [9], resealing: nil), index: 3) } == "descriptor 3 failed its CRC32C check")
        #expect(corruption { _ = try DiskDescriptor.decode(Self.patched(unit, at: 28, Self.le(UInt32(256)), resealing: crc), index: 3) } == "descriptor 3 has a bad kind or name length")
        #expect(corruption { _ = try DiskDescriptor.decode(Self.patched(unit, at: 24, Self.le(UInt32(3)), resealing: crc), index: 3) } == "descriptor 3 has a bad kind or name length")
        #expect(corruption { _ = try DiskDescriptor.decode(Self.patched(unit, at: 288, Self.le(UInt64(1000)), resealing: crc), index: 3) } == "descriptor 3 has an impossible size 1000")
        #expect(corruption { _ = try DiskDescriptor.decode(Self.patched(unit, at: 288, Self.le(UInt64(1) << 47), resealing: crc), index: 3) } == "descriptor 3 has an impossible size 140737488355328")
    }

    @Test func descriptorNameOfInvalidUTF8ReencodesToItself() throws {
        // 255 bytes of 0xC3 (a lead byte with no continuation): 255 replacements would need 765 bytes.
        var unit = Self.patched(DiskDescriptor(inUse: true, name: "x", size: 512).encoded(), at: 28, Self.le(UInt32(255)), resealing: nil)
        unit = Self.patched(unit, at: 32, [UInt8](repeating: 0xC3, count: 255), resealing: VolumeLayout.unitCRCOffset)
        let descriptor = try DiskDescriptor.decode(unit, index: 0)
        #expect(descriptor.name.utf8.count <= DiskDescriptor.maximumNameLength)
        #expect(try DiskDescriptor.decode(descriptor.encoded(), index: 0) == descriptor)
    }

    @Test func pointerPageDamageIsNamed() throws {
        let page = PointerPage(pageIndex: 2, ownerBlock: 40, pointers: (0..<509).map { UInt64($0) })
        let unit = page.encoded()
        #expect(try PointerPage.decode(unit, pageIndex: 2, ownerBlock: 40) == page)
        #expect(corruption { _ = try PointerPage.decode(unit.getSlice(at: 0, length: 16)!, pageIndex: 2, ownerBlock: 40) } == "pointer block 40 page 2 is truncated: 16 of 4096 bytes")
        #expect(corruption { _ = try PointerPage.decode(Self.patched(unit, at: 0, [0], resealing: 4092), pageIndex: 2, ownerBlock: 40) } == "pointer block 40 page 2 has no pointer page magic")
        #expect(corruption { _ = try PointerPage.decode(Self.patched(unit, at: 100, [0xFF], resealing: nil), pageIndex: 2, ownerBlock: 40) } == "pointer block 40 page 2 failed its CRC32C check")
        #expect(corruption { _ = try PointerPage.decode(unit, pageIndex: 3, ownerBlock: 40) } == "pointer block 40 page 3 carries another page's identity (misdirected write)")
        #expect(corruption { _ = try PointerPage.decode(unit, pageIndex: 2, ownerBlock: 41) } == "pointer block 41 page 2 carries another page's identity (misdirected write)")
    }

    @Test func bitmapDamageIsNamed() throws {
        var bitmap = ClusterBitmap(index: 7, firstBlock: 60, blockCount: 3)
        bitmap.set(61, allocated: true)
        let unit = bitmap.encoded()
        let crc = VolumeLayout.unitCRCOffset
        #expect(try ClusterBitmap.decode(unit, index: 7, firstBlock: 60, blockCount: 3) == bitmap)
        #expect(corruption { _ = try ClusterBitmap.decode(unit.getSlice(at: 0, length: 2000)!, index: 7, firstBlock: 60, blockCount: 3) } == "bitmap of resource cluster 7 is truncated: 2000 of 4096 bytes")
        #expect(corruption { _ = try ClusterBitmap.decode(ByteBuffer.zeros(4096), index: 7, firstBlock: 60, blockCount: 3) } == "bitmap of resource cluster 7 has no bitmap magic")
        #expect(corruption { _ = try ClusterBitmap.decode(Self.patched(unit, at: 32, [0x07], resealing: nil), index: 7, firstBlock: 60, blockCount: 3) } == "bitmap of resource cluster 7 failed its CRC32C check")
        #expect(corruption { _ = try ClusterBitmap.decode(unit, index: 7, firstBlock: 60, blockCount: 8) } == "bitmap of resource cluster 7 describes another cluster (misdirected write)")
        #expect(corruption { _ = try ClusterBitmap.decode(Self.patched(unit, at: 20, Self.le(UInt32(3)), resealing: crc), index: 7, firstBlock: 60, blockCount: 3) }
            == "bitmap of resource cluster 7 has a free count that disagrees with its bits")
        // Bits past a short cluster's end once made the free count negative, trapping its UInt32 conversion.
        #expect(corruption { _ = try ClusterBitmap.decode(Self.patched(unit, at: 32, [0xFF], resealing: crc), index: 7, firstBlock: 60, blockCount: 3) }
            == "bitmap of resource cluster 7 marks blocks past its last block 62")
    }

    @Test func journalDamageIsNamedOrIgnored() throws {
        let header = JournalTransaction.encodedJournalHeader(slot: 1, appliedSequence: 5)
        #expect(try JournalTransaction.decodeJournalHeader(header, slot: 1) == 5)
        #expect(try JournalTransaction.decodeJournalHeader(ByteBuffer.zeros(512), slot: 1) == 0)
        #expect(corruption { _ = try JournalTransaction.decodeJournalHeader(header.getSlice(at: 0, length: 12)!, slot: 1) } == "journal header of host slot 1 is truncated: 12 of 512 bytes")
        #expect(corruption { _ = try JournalTransaction.decodeJournalHeader(header, slot: 0) } == "journal header of host slot 0 failed its magic, slot or CRC32C check")
        #expect(corruption { _ = try JournalTransaction.decodeJournalHeader(Self.patched(header, at: 8, [6], resealing: nil), slot: 1) } == "journal header of host slot 1 failed its magic, slot or CRC32C check")
        // An applied sequence of 2^64 − 1 once trapped the mount's "next sequence = applied + 1".
        #expect(corruption { _ = try JournalTransaction.decodeJournalHeader(Self.patched(header, at: 8, Self.le(UInt64.max), resealing: 508), slot: 1) }
            == "journal header of host slot 1 has an impossible applied sequence 18446744073709551615")

        // A transaction that is not valid is no transaction: it is ignored, never replayed.
        let image = ByteBuffer.zeros(4096)
        let transaction = JournalTransaction(slot: 1, sequence: 9, images: [(262_144, image)]).encoded().getSlice(at: 0, length: 4096)!
        let capacity = JournalTransaction.capacity(journalUnits: 16)
        #expect(JournalTransaction.decodeHeader(transaction, slot: 1, capacity: capacity)?.sequence == 9)
        #expect(JournalTransaction.decodeHeader(transaction, slot: 0, capacity: capacity) == nil)
        #expect(JournalTransaction.decodeHeader(Self.patched(transaction, at: 8, [1], resealing: nil), slot: 1, capacity: capacity) == nil)
        #expect(JournalTransaction.decodeHeader(Self.patched(transaction, at: 16, Self.le(UInt32(15)), resealing: 4092), slot: 1, capacity: capacity) == nil)
        #expect(JournalTransaction.decodeHeader(Self.patched(transaction, at: 16, Self.le(UInt32(0)), resealing: 4092), slot: 1, capacity: capacity) == nil)
        #expect(JournalTransaction.decodeHeader(Self.patched(transaction, at: 8, Self.le(UInt64.max), resealing: 4092), slot: 1, capacity: capacity) == nil)
    }
}
