// A libFuzzer entry point for what a datastore reads from its LUN: every on-disk record
// decoder on raw bytes. None may trap; each must refuse with a DatastoreError or return a
// value that encodes and decodes back to itself. The whole-volume half is in
// MetadataFuzzing+Volume.swift.

import Foundation
import NIOCore

/// Runs the datastore's record decoders on arbitrary bytes; errors are expected, traps are bugs.
@_spi(Fuzzing) public enum MetadataFuzzing {
    /// Decodes `bytes` as each record kind, as found and with its CRC32C resealed at
    /// the record's and the unit's CRC offset (so the fuzzer gets past the checksum).
    public static func exerciseRecords(_ bytes: UnsafeRawBufferPointer) {
        let raw = ByteBuffer(bytes: bytes)
        var variants = [raw]
        for crcOffset in [VolumeLayout.recordCRCOffset, VolumeLayout.unitCRCOffset] where raw.readableBytes >= crcOffset + 4 {
            var sealed = raw
            sealed.sealCRC(at: crcOffset)
            variants.append(sealed)
        }
        for buffer in variants {
            decodeHeader(buffer)
            decodeHeartbeat(buffer)
            decodeLock(buffer)
            decodeDescriptor(buffer)
            decodePointerPage(buffer)
            decodeBitmap(buffer)
            decodeJournal(buffer)
            decodeSidecarDirectory(buffer)
        }
    }

    /// A decoder may refuse only with a DatastoreError; anything else is a bug.
    static func refused(_ error: any Error, by decoder: String) {
        guard error is DatastoreError else {
            fatalError("\(decoder) threw \(type(of: error)) instead of a DatastoreError: \(error)")
        }
    }

    /// What was decoded must encode to bytes that decode to the same value.
    static func expectRoundTrip<T: Equatable>(_ value: T, _ decoder: String, _ again: () throws -> T) {
        do {
            let second = try again()
            precondition(second == value, "\(decoder): \(value) re-encoded and decoded as \(second)")
        } catch {
            fatalError("\(decoder): \(value) re-encoded does not decode: \(error)")
        }
    }

    private static func field<T: FixedWidthInteger>(_ buffer: ByteBuffer, _ offset: Int, as: T.Type = T.self) -> T {
        (try? buffer.le(offset, as: T.self)) ?? 0
    }

    private static func decodeHeader(_ buffer: ByteBuffer) {
        // The device size as the header claims it, a larger device, and the largest possible one.
        for deviceSize in [field(buffer, 184, as: UInt64.self), 1 << 40, UInt64.max] {
            do {
                let header = try VolumeHeader.decode(buffer, where: "fuzzed header", deviceSize: deviceSize)
                expectRoundTrip(header, "VolumeHeader") {
                    try VolumeHeader.decode(header.encoded(), where: "re-encoded header", deviceSize: deviceSize)
                }
                // Every accessor a mounted volume uses must stay in range for a valid header.
                _ = header.isJournalTarget(header.dataOffset)
                _ = header.journalStart(slot: Int(header.maxHosts) - 1)
                _ = header.descriptorUnit(Int(header.maxDisks) - 1)
                _ = header.clusterBitmapUnit(Int(header.clusterCount) - 1)
                _ = header.endDataBlock
            } catch { refused(error, by: "VolumeHeader.decode") }
        }
    }

    private static func decodeHeartbeat(_ buffer: ByteBuffer) {
        let slot = Int(field(buffer, 4, as: UInt32.self) % UInt32(VolumeLayout.maximumHosts))
        do {
            let record = try HeartbeatRecord.decode(buffer, slot: slot)
            expectRoundTrip(record, "HeartbeatRecord") {
                try HeartbeatRecord.decode(record.encoded(sectorSize: 512), slot: slot)
            }
        } catch { refused(error, by: "HeartbeatRecord.decode") }
    }

    private static func decodeLock(_ buffer: ByteBuffer) {
        do {
            let record = try LockRecord.decode(buffer, place: "fuzzed lock")
            expectRoundTrip(record, "LockRecord") {
                try LockRecord.decode(record.encoded(sectorSize: 512), place: "re-encoded lock")
            }
        } catch { refused(error, by: "LockRecord.decode") }
    }

    private static func decodeDescriptor(_ buffer: ByteBuffer) {
        do {
            let descriptor = try DiskDescriptor.decode(buffer, index: 0)
            expectRoundTrip(descriptor, "DiskDescriptor") {
                try DiskDescriptor.decode(descriptor.encoded(), index: 0)
            }
        } catch { refused(error, by: "DiskDescriptor.decode") }
    }

    private static func decodePointerPage(_ buffer: ByteBuffer) {
        // The identity the page claims, so the fuzzer reaches past the misdirection check.
        let pageIndex = Int(field(buffer, 4, as: UInt32.self) % 256)
        let owner: UInt64 = field(buffer, 8)
        do {
            let page = try PointerPage.decode(buffer, pageIndex: pageIndex, ownerBlock: owner)
            expectRoundTrip(page, "PointerPage") {
                try PointerPage.decode(page.encoded(), pageIndex: pageIndex, ownerBlock: owner)
            }
        } catch { refused(error, by: "PointerPage.decode") }
    }

    private static func decodeBitmap(_ buffer: ByteBuffer) {
        // A header never gives a cluster more blocks than a bitmap unit holds.
        let index = Int(field(buffer, 4, as: UInt32.self))
        let first: UInt64 = field(buffer, 8)
        let count = field(buffer, 16, as: UInt32.self) % UInt32(VolumeLayout.maximumClusterBlocks + 1)
        do {
            let bitmap = try ClusterBitmap.decode(buffer, index: index, firstBlock: first, blockCount: count)
            precondition(bitmap.freeCount >= 0 && bitmap.freeCount <= Int(count), "ClusterBitmap: free count \(bitmap.freeCount) of \(count) blocks")
            expectRoundTrip(bitmap, "ClusterBitmap") {
                try ClusterBitmap.decode(bitmap.encoded(), index: index, firstBlock: first, blockCount: count)
            }
        } catch { refused(error, by: "ClusterBitmap.decode") }
    }

    private static func decodeSidecarDirectory(_ buffer: ByteBuffer) {
        // The identity the directory claims, so the fuzzer reaches past the misdirection check.
        let index = Int(field(buffer, 4, as: UInt32.self))
        let block: UInt64 = field(buffer, 8)
        let uuid = (try? buffer.uuid(16)) ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        // The smallest sidecar block (64 KiB file blocks) and the largest area.
        for areaUnits in [16, 257] {
            do {
                let directory = try SidecarDirectory.decode(buffer, disk: "fuzzed", index: index, uuid: uuid, block: block, areaUnits: areaUnits)
                precondition(directory.entries.allSatisfy { $0.units.upperBound <= areaUnits }, "SidecarDirectory: an entry past \(areaUnits) units")
                expectRoundTrip(directory, "SidecarDirectory") {
                    try SidecarDirectory.decode(directory.encoded(), disk: "fuzzed", index: index, uuid: uuid, block: block, areaUnits: areaUnits)
                }
            } catch { refused(error, by: "SidecarDirectory.decode") }
        }
    }

    private static func decodeJournal(_ buffer: ByteBuffer) {
        let slot = Int(field(buffer, 4, as: UInt32.self) % UInt32(VolumeLayout.maximumHosts))
        do {
            let applied = try JournalTransaction.decodeJournalHeader(buffer, slot: slot)
            let encoded = JournalTransaction.encodedJournalHeader(slot: UInt32(slot), appliedSequence: applied)
            expectRoundTrip(applied, "journal header") { try JournalTransaction.decodeJournalHeader(encoded, slot: slot) }
        } catch { refused(error, by: "JournalTransaction.decodeJournalHeader") }

        for journalUnits in [VolumeLayout.minimumJournalUnits, VolumeLayout.maximumJournalUnits] {
            let capacity = JournalTransaction.capacity(journalUnits: journalUnits)
            guard let (sequence, entries) = JournalTransaction.decodeHeader(buffer, slot: slot, capacity: capacity) else { continue }
            precondition((1...capacity).contains(entries.count), "journal transaction with \(entries.count) images in a capacity of \(capacity)")
            // Images whose CRCs are the entries' own cannot be forged; re-encode with zero images.
            let images = entries.map { (offset: $0.0, image: ByteBuffer.zeros(VolumeLayout.unitSize)) }
            let encoded = JournalTransaction(slot: UInt32(slot), sequence: sequence, images: images).encoded()
            let again = JournalTransaction.decodeHeader(encoded, slot: slot, capacity: capacity)
            precondition(again?.sequence == sequence && again?.entries.map { $0.0 } == entries.map { $0.0 },
                         "journal transaction \(sequence) re-encoded as \(String(describing: again))")
        }
    }
}
