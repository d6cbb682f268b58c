// Writing a new volume: layout arithmetic, empty regions, bitmaps, and both header copies.

import BlockDevice
import Foundation
import NIOCore

extension Datastore {
    /// Lays out and writes a new, empty datastore over the whole device.
    /// Every existing byte of metadata is overwritten; disks on it are lost.
    @discardableResult
    public static func format(device: any BlockDevice, options: FormatOptions, clock: any DatastoreClock = SystemDatastoreClock()) async throws -> DatastoreInfo {
        let sectorSize = device.geometry.blockSize
        let unit = UInt64(VolumeLayout.unitSize)
        guard VolumeLayout.unitSize % sectorSize == 0 else {
            throw DatastoreError(.invalidArgument, "the device's block size \(sectorSize) does not divide the datastore unit of 4096 bytes")
        }
        let fb = options.fileBlockSize
        guard fb >= VolumeLayout.minimumFileBlockSize, fb <= VolumeLayout.maximumFileBlockSize, fb & (fb - 1) == 0 else {
            throw DatastoreError(.invalidArgument, "file block size \(fb) must be a power of two from 64 KiB to 16 MiB")
        }
        guard (1...VolumeLayout.maximumHosts).contains(options.maxHosts) else {
            throw DatastoreError(.invalidArgument, "max hosts \(options.maxHosts) must be 1...\(VolumeLayout.maximumHosts)")
        }
        guard options.maxDisks >= 1, options.maxDisks <= 1 << 20 else {
            throw DatastoreError(.invalidArgument, "max disks \(options.maxDisks) must be 1...\(1 << 20)")
        }
        guard options.clusterBlocks >= 8, options.clusterBlocks <= VolumeLayout.maximumClusterBlocks, options.clusterBlocks % 8 == 0 else {
            throw DatastoreError(.invalidArgument, "cluster size \(options.clusterBlocks) blocks must be a multiple of 8 up to \(VolumeLayout.maximumClusterBlocks)")
        }
        guard (VolumeLayout.minimumJournalUnits...VolumeLayout.maximumJournalUnits).contains(options.journalUnits) else {
            throw DatastoreError(.invalidArgument, "journal units \(options.journalUnits) must be \(VolumeLayout.minimumJournalUnits)...\(VolumeLayout.maximumJournalUnits)")
        }
        guard options.label.utf8.count <= 64 else {
            throw DatastoreError(.invalidArgument, "label '\(options.label)' is longer than 64 bytes")
        }
        let lockMode: LockMode
        if let requested = options.lockMode {
            lockMode = requested
        } else if device.capabilities.contains(.compareAndWrite) {
            lockMode = .ats
        } else if device.capabilities.contains(.persistentReservations) {
            lockMode = .reservations
        } else {
            throw DatastoreError(.invalidArgument, "the device has neither COMPARE AND WRITE nor persistent reservations; on-disk locks need one of them")
        }
        try checkLockMode(lockMode, device: device)

        let volumeSize = device.geometry.byteCount / unit * unit
        let heartbeatOffset = unit
        let journalOffset = heartbeatOffset + UInt64(options.maxHosts) * unit
        let descriptorOffset = journalOffset + UInt64(options.maxHosts * options.journalUnits) * unit
        let clusterOffset = descriptorOffset + UInt64(options.maxDisks) * 2 * unit
        let backupOffset = volumeSize - unit
        let totalBlocks = backupOffset / UInt64(fb)
        // Size the cluster region for every block first, then trim: a few spare clusters cost 8 KiB each.
        var clusterCount = (totalBlocks + UInt64(options.clusterBlocks) - 1) / UInt64(options.clusterBlocks)
        let dataOffset = (clusterOffset + clusterCount * 2 * unit + UInt64(fb) - 1) / UInt64(fb) * UInt64(fb)
        guard volumeSize > unit * 2, dataOffset / UInt64(fb) < totalBlocks else {
            throw DatastoreError(.noSpace, "a device of \(device.geometry.byteCount) bytes is too small for a datastore with \(options.maxHosts) hosts and \(options.maxDisks) disks")
        }
        let dataBlockCount = totalBlocks - dataOffset / UInt64(fb)
        clusterCount = (dataBlockCount + UInt64(options.clusterBlocks) - 1) / UInt64(options.clusterBlocks)

        var header = VolumeHeader(
            uuid: UUID(), label: options.label, lunBlockSize: UInt32(sectorSize), fileBlockSize: UInt32(fb),
            lockMode: lockMode, maxHosts: UInt32(options.maxHosts), maxDisks: UInt32(options.maxDisks),
            clusterBlocks: UInt32(options.clusterBlocks), journalUnits: UInt32(options.journalUnits),
            heartbeatOffset: heartbeatOffset, journalOffset: journalOffset, descriptorOffset: descriptorOffset,
            clusterOffset: clusterOffset, dataOffset: dataOffset, dataBlockCount: dataBlockCount,
            clusterCount: clusterCount, volumeSize: volumeSize, createdMillis: clock.wallMillis(), backupOffset: backupOffset
        )
        try header.validate(place: "new header", deviceSize: device.geometry.byteCount)

        // Heartbeats, journals, locks and descriptors are valid when zero.
        try await zeroRange(device: device, from: heartbeatOffset, to: clusterOffset)
        // Bitmaps are written in batches: a lock unit of zeros, then the bitmap.
        let batch = 256
        var cluster: UInt64 = 0
        while cluster < clusterCount {
            let count = Int(min(UInt64(batch), clusterCount - cluster))
            var buffer = ByteBuffer.zeros(0)
            buffer.reserveCapacity(count * 2 * VolumeLayout.unitSize)
            for index in cluster..<cluster + UInt64(count) {
                buffer.writeImmutableBuffer(ByteBuffer.zeros(VolumeLayout.unitSize))
                let first = header.firstDataBlock + index * UInt64(options.clusterBlocks)
                let blocks = UInt32(min(UInt64(options.clusterBlocks), header.endDataBlock - first))
                buffer.writeImmutableBuffer(ClusterBitmap(index: UInt32(index), firstBlock: first, blockCount: blocks).encoded())
            }
            try await device.write(buffer, at: (clusterOffset + cluster * 2 * unit) / UInt64(sectorSize), fua: false)
            cluster += UInt64(count)
        }
        try await device.flush()
        // The header goes last, so a volume whose format was interrupted is not mountable.
        header.isBackup = true
        try await device.write(header.encoded(), at: backupOffset / UInt64(sectorSize), fua: true)
        header.isBackup = false
        try await device.write(header.encoded(), at: 0, fua: true)
        return DatastoreInfo(header: header, fromBackup: false)
    }

    static func checkLockMode(_ mode: LockMode, device: any BlockDevice) throws {
        switch mode {
        case .ats where !device.capabilities.contains(.compareAndWrite):
            throw DatastoreError(.invalidArgument, "ATS locking needs COMPARE AND WRITE, which this device does not have")
        case .reservations where !device.capabilities.contains(.persistentReservations):
            throw DatastoreError(.invalidArgument, "reservation locking needs SCSI-3 persistent reservations, which this device does not have")
        default:
            return
        }
    }

    private static func zeroRange(device: any BlockDevice, from start: UInt64, to end: UInt64) async throws {
        let sectorSize = UInt64(device.geometry.blockSize)
        let zero = ByteBuffer.zeros(Int(sectorSize))
        var lba = start / sectorSize
        let endLBA = end / sectorSize
        while lba < endLBA {
            let count = Int(min(endLBA - lba, UInt64(1 << 30) / sectorSize))
            if device.capabilities.contains(.writeSame) {
                try await device.writeSame(zero, at: lba, blockCount: count, unmap: device.capabilities.contains(.writeSameUnmap) && device.capabilities.contains(.unmappedReadsZero))
            } else {
                var offset = 0
                while offset < count {
                    let piece = min(count - offset, (1 << 20) / Int(sectorSize))
                    try await device.write(ByteBuffer.zeros(piece * Int(sectorSize)), at: lba + UInt64(offset), fua: false)
                    offset += piece
                }
            }
            lba += UInt64(count)
        }
    }
}
