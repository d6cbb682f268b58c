// Sidecars: small named blobs per disk, kept in one file block beside the disk's data and
// changed through the journal like the rest of the metadata (docs/FORMAT.md, "Sidecar block").

import BlockDevice
import NIOCore

extension Datastore {
    /// Units of a sidecar block in use: the directory and the content units after it.
    var sidecarAreaUnits: Int {
        min(header.fileBlockSizeInt / VolumeLayout.unitSize,
            1 + SidecarDirectory.maximumCount * SidecarDirectory.maximumBlobSize / VolumeLayout.unitSize)
    }

    /// Volumes formatted before sidecars (1.0) mount as they are, but get none written.
    var supportsSidecars: Bool { header.minorVersion >= VolumeLayout.sidecarMinorVersion }

    private func sidecarUnit(_ block: UInt64, _ unit: Int) -> UInt64 {
        block * UInt64(header.fileBlockSize) + UInt64(unit * VolumeLayout.unitSize)
    }

    /// The directory of disk `descriptor` (descriptor `index`), or nil when it has no sidecars.
    func readSidecarDirectory(_ descriptor: DiskDescriptor, index: Int) async throws -> SidecarDirectory? {
        let block = descriptor.sidecarBlock
        guard block != 0 else { return nil }
        guard block >= header.firstDataBlock, block < header.endDataBlock else {
            throw DatastoreError(.corrupt, "disk '\(descriptor.name)' names sidecar block \(block), outside the data region of \(volumeName)")
        }
        return try SidecarDirectory.decode(try await readUnit(at: sidecarUnit(block, 0)), disk: descriptor.name, index: index,
                                           uuid: descriptor.uuid, block: block, areaUnits: sidecarAreaUnits)
    }

    /// One blob's content, checked against its CRC32C.
    func readSidecarContent(_ entry: SidecarDirectory.Entry, directory: SidecarDirectory, disk: String) async throws -> [UInt8] {
        var content: [UInt8] = []
        if entry.unitCount > 0 {
            let units = try await readUnits(at: sidecarUnit(directory.block, entry.firstUnit), count: entry.unitCount)
            content = units.getBytes(at: units.readerIndex, length: entry.length) ?? []
        }
        guard content.count == entry.length, SidecarDirectory.crc(content) == entry.crc else {
            throw DatastoreError(.corrupt, "sidecar '\(entry.name)' of disk '\(disk)' on \(volumeName) failed its CRC32C check (file block \(directory.block), units \(entry.firstUnit)…\(entry.units.upperBound - 1)); it is left as it is")
        }
        return content
    }

    func readSidecar(_ name: String, descriptor: DiskDescriptor, index: Int) async throws -> [UInt8]? {
        try SidecarDirectory.validate(name: name)
        guard let directory = try await readSidecarDirectory(descriptor, index: index),
              let entry = directory.entries.first(where: { $0.name == name })
        else { return nil }
        return try await readSidecarContent(entry, directory: directory, disk: descriptor.name)
    }

    /// Replaces sidecar `name` with `content`, or deletes it when `content` is nil, in one
    /// transaction: the directory and every content unit are journaled together, so a crash
    /// leaves the old blob or the new one. The first sidecar of a disk allocates (and zeroes)
    /// its sidecar block in the same transaction. Returns the descriptor now in force.
    /// The caller holds the metadata lock and the disk's exclusive lock.
    func writeSidecar(_ name: String, _ content: [UInt8]?, descriptor: DiskDescriptor, index: Int) async throws -> DiskDescriptor {
        try SidecarDirectory.validate(name: name)
        let disk = descriptor.name
        if let content, content.count > SidecarDirectory.maximumBlobSize {
            throw DatastoreError(.invalidArgument, "sidecar '\(name)' of disk '\(disk)' would be \(content.count) bytes; a sidecar holds at most \(SidecarDirectory.maximumBlobSize)")
        }
        try checkLive("writing sidecar '\(name)' of disk '\(disk)'")
        let existing = try await readSidecarDirectory(descriptor, index: index)
        var directory = existing ?? SidecarDirectory(diskIndex: UInt32(index), block: 0, diskUUID: descriptor.uuid)
        let had = directory.entries.contains { $0.name == name }
        directory.entries.removeAll { $0.name == name }
        var units: [(unit: Int, image: ByteBuffer)] = []
        if let content {
            guard directory.entries.count < SidecarDirectory.maximumCount else {
                throw DatastoreError(.noSpace, "disk '\(disk)' already has \(SidecarDirectory.maximumCount) sidecars, the most it may have; sidecar '\(name)' was not written")
            }
            let count = (content.count + VolumeLayout.unitSize - 1) / VolumeLayout.unitSize
            guard let first = directory.place(count, for: name, areaUnits: sidecarAreaUnits) else {
                throw DatastoreError(.noSpace, "the sidecar block of disk '\(disk)' (\(sidecarAreaUnits - 1) units of 4 KiB) has no \(count) free units in a row for sidecar '\(name)'")
            }
            directory.entries.append(SidecarDirectory.Entry(name: name, length: content.count, firstUnit: first, crc: SidecarDirectory.crc(content)))
            for offset in 0..<count {
                var image = ByteBuffer.zeros(VolumeLayout.unitSize)
                let start = offset * VolumeLayout.unitSize
                image.setBytes(content[start..<min(start + VolumeLayout.unitSize, content.count)], at: 0)
                units.append((first + offset, image))
            }
        } else if !had {
            return descriptor
        }
        var current = descriptor
        let transaction = MetadataTransaction()
        if existing == nil {
            guard supportsSidecars else {
                throw DatastoreError(.unsupportedVersion, "\(volumeName) is format version \(header.majorVersion).\(header.minorVersion), made before sidecars; sidecar '\(name)' of disk '\(disk)' needs version 1.\(VolumeLayout.sidecarMinorVersion) (docs/FORMAT.md, \"Versioning\")")
            }
            let block = try await building(transaction) { try await allocateBlocks(1, transaction: transaction)[0] }
            transaction.newBlocks.append((block, nil))
            directory.block = block
            current.sidecarBlock = block
            current.allocatedBlocks &+= 1
            current.changeCounter &+= 1
            current.modifiedMillis = options.clock.wallMillis()
            transaction.descriptors[index] = current
        }
        directory.changeCounter &+= 1
        transaction.units[sidecarUnit(directory.block, 0)] = directory.encoded()
        for (unit, image) in units { transaction.units[sidecarUnit(directory.block, unit)] = image }
        try await commit(transaction)
        return current
    }

    /// What `check` says about a disk's sidecars: a damaged directory, or each damaged blob.
    func sidecarProblems(_ descriptor: DiskDescriptor, index: Int) async throws -> [String] {
        let directory: SidecarDirectory
        do {
            guard let found = try await readSidecarDirectory(descriptor, index: index) else { return [] }
            directory = found
        } catch let error as DatastoreError where error.code == .corrupt {
            return [error.message]
        }
        var problems: [String] = []
        for entry in directory.entries {
            do {
                _ = try await readSidecarContent(entry, directory: directory, disk: descriptor.name)
            } catch let error as DatastoreError where error.code == .corrupt {
                problems.append(error.message)
            }
        }
        return problems
    }
}
