// The whole-volume half of MetadataFuzzing: a small formatted volume with disks, a dead
// second host and a pending journal transaction, patched field by field with fuzzer
// bytes, then mounted, listed, opened, read, written, checked, repaired and unmounted.

import BlockDevice
import Foundation
import NIOCore

extension MetadataFuzzing {
    /// The scratch volume's shape: 64 KiB file blocks, 2 hosts, 4 disks, clusters of 8
    /// blocks (the last one short), the smallest journal. It needs a device of 4 MiB.
    @_spi(Fuzzing) public static var scratchFormat: FormatOptions {
        var options = FormatOptions(label: "fuzz")
        options.fileBlockSize = VolumeLayout.minimumFileBlockSize
        options.maxHosts = 2
        options.maxDisks = 4
        options.clusterBlocks = 8
        options.journalUnits = VolumeLayout.minimumJournalUnits
        options.lockMode = .ats
        return options
    }

    @_spi(Fuzzing) public static let scratchDeviceBytes: UInt64 = 4 << 20

    static let hostA = HostIdentity(uuid: UUID(uuid: (0xA, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)), name: "fuzz-a")
    static let hostB = HostIdentity(uuid: UUID(uuid: (0xB, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2)), name: "fuzz-b")
    /// A thin disk whose map uses a direct, a single-indirect and a double-indirect root.
    static let deepDisk = (name: "deep", size: UInt64(128) << 30, writes: [UInt64(0), 16 << 20, 64 << 30])

    static func options(_ clock: ManualDatastoreClock) -> DatastoreOptions {
        var options = DatastoreOptions()
        options.clock = clock
        options.runsHeartbeatTask = false
        options.lockWait = .zero
        return options
    }

    /// Formats `device` (ATS, `scratchDeviceBytes`) and fills it: host A writes the deep
    /// disk and unmounts; host B creates an eager-zeroed and a small disk, keeps the eager
    /// one open and stops as if killed, its last transaction marked pending again.
    @_spi(Fuzzing) public static func prepareScratchVolume(on device: any BlockDevice) async throws {
        let clock = ManualDatastoreClock()
        try await Datastore.format(device: device, options: scratchFormat, clock: clock)
        let a = try await Datastore.mount(device: device, host: hostA, options: options(clock))
        try await a.createDisk(name: deepDisk.name, size: deepDisk.size)
        let disk = try await a.openDisk(name: deepDisk.name)
        for (index, offset) in deepDisk.writes.enumerated() {
            try await disk.write(ByteBuffer(repeating: UInt8(index + 1), count: 4096), offset: offset, fua: true)
        }
        try await disk.close()
        try await a.unmount()

        let b = try await Datastore.mount(device: device, host: hostB, options: options(clock))
        try await b.createDisk(name: "small", size: 1 << 20)
        try await b.createDisk(name: "eager", size: 128 << 10, kind: .eagerZeroed)
        _ = try await b.openDisk(name: "eager")
        // Un-retire B's last transaction: the next host to break B's lock replays it.
        let journal = b.header.journalStart(slot: b.slot)
        let applied = try JournalTransaction.decodeJournalHeader(try await b.readUnit(at: journal), slot: b.slot)
        try await b.writeBytes(JournalTransaction.encodedJournalHeader(slot: UInt32(b.slot), appliedSequence: applied - 1), at: journal)
    }

    /// One place the fuzzer may patch: a metadata unit and where its CRC32C sits, if anywhere.
    struct PatchTarget {
        var offset: UInt64
        var crcOffset: Int?
    }

    /// Every metadata unit of the scratch volume, in header order, then every page of the
    /// deep disk's pointer blocks: 82 targets, so a selector's low 7 bits reach them all.
    static func patchTargets(_ header: VolumeHeader, pointerBlocks: [UInt64]) -> [PatchTarget] {
        let record = VolumeLayout.recordCRCOffset
        let unit = VolumeLayout.unitCRCOffset
        var targets = [PatchTarget(offset: 0, crcOffset: record), PatchTarget(offset: header.backupOffset, crcOffset: record)]
        for slot in 0..<Int(header.maxHosts) {
            targets.append(PatchTarget(offset: header.heartbeatUnit(slot: slot), crcOffset: record))
            let journal = header.journalStart(slot: slot)
            targets.append(PatchTarget(offset: journal, crcOffset: record))
            targets.append(PatchTarget(offset: journal + UInt64(VolumeLayout.unitSize), crcOffset: unit))
            targets.append(PatchTarget(offset: journal + 2 * UInt64(VolumeLayout.unitSize), crcOffset: nil))
        }
        for index in 0..<Int(header.maxDisks) {
            targets.append(PatchTarget(offset: header.descriptorLockUnit(index), crcOffset: record))
            targets.append(PatchTarget(offset: header.descriptorUnit(index), crcOffset: unit))
        }
        for index in 0..<Int(header.clusterCount) {
            targets.append(PatchTarget(offset: header.clusterLockUnit(index), crcOffset: record))
            targets.append(PatchTarget(offset: header.clusterBitmapUnit(index), crcOffset: unit))
        }
        for block in pointerBlocks {
            for page in 0..<header.fileBlockSizeInt / VolumeLayout.unitSize {
                targets.append(PatchTarget(offset: block * UInt64(header.fileBlockSize) + UInt64(page * VolumeLayout.unitSize), crcOffset: unit))
            }
        }
        return targets
    }

    /// Applies the patches in `input` to a scratch volume (see docs/FUZZING.md for the
    /// input's layout), then runs every datastore operation on it as host A.
    @_spi(Fuzzing) public static func exerciseVolume(_ input: [UInt8], device: any BlockDevice) async {
        do {
            try await patch(device, with: input)
        } catch {
            fatalError("patching the scratch volume failed: \(error)")
        }
        await exerciseMounted(device)
    }

    /// Records of [target, offset / 16, length, bytes...]; target bit 7 reseals the unit's CRC.
    static func patch(_ device: any BlockDevice, with input: [UInt8]) async throws {
        let (header, _) = try await Datastore.readHeader(device: device)
        let deep = try await deepDiskPointerBlocks(device: device, header: header)
        let targets = patchTargets(header, pointerBlocks: deep)
        let sectors = VolumeLayout.unitSize / device.geometry.blockSize
        var rest = input[...]
        while rest.count >= 3 {
            let selector = rest.removeFirst()
            let at = Int(rest.removeFirst()) * 16
            let length = min(Int(rest.removeFirst()), rest.count, VolumeLayout.unitSize - at)
            let target = targets[Int(selector & 0x7F) % targets.count]
            let lba = target.offset / UInt64(device.geometry.blockSize)
            var unit = try await device.read(at: lba, blockCount: sectors)
            unit.setBytes(rest.prefix(length), at: unit.readerIndex + at)
            rest = rest.dropFirst(length)
            if selector & 0x80 != 0, let crcOffset = target.crcOffset { unit.sealCRC(at: crcOffset) }
            try await device.write(unit, at: lba, fua: false)
        }
    }

    /// The deep disk's pointer blocks, read from the template before any patch lands.
    private static func deepDiskPointerBlocks(device: any BlockDevice, header: VolumeHeader) async throws -> [UInt64] {
        let sectors = VolumeLayout.unitSize / device.geometry.blockSize
        let unit = try await device.read(at: header.descriptorUnit(0) / UInt64(device.geometry.blockSize), blockCount: sectors)
        let descriptor = try DiskDescriptor.decode(unit, index: 0)
        var blocks = descriptor.single.filter { $0 != 0 } + descriptor.double.filter { $0 != 0 }
        for root in descriptor.double where root != 0 {
            let page = try await device.read(at: root * UInt64(header.fileBlockSize) / UInt64(device.geometry.blockSize), blockCount: sectors)
            blocks += try PointerPage.decode(page, pageIndex: 0, ownerBlock: root).pointers.filter { $0 != 0 }
        }
        return blocks
    }

    /// Fails the run when an operation throws anything but the datastore's or a block device's error.
    private static func expectClean(_ operation: String, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch is DatastoreError {
        } catch is BlockDeviceError {
        } catch {
            fatalError("\(operation) threw \(type(of: error)) instead of a DatastoreError or BlockDeviceError: \(error)")
        }
    }

    private static func exerciseMounted(_ device: any BlockDevice) async {
        let clock = ManualDatastoreClock()
        await expectClean("info") { _ = try await Datastore.info(device: device, countingFreeBlocks: true) }
        let store: Datastore
        do {
            store = try await Datastore.mount(device: device, host: hostA, options: options(clock))
        } catch {
            await expectClean("mount") { throw error }
            return
        }
        await expectClean("hosts") { _ = try await store.hosts() }
        await expectClean("locks") { _ = try await store.locks() }
        var names: [String] = []
        await expectClean("listDisks") { names = try await store.listDisks().map(\.name) }
        for name in names.prefix(Int(scratchFormat.maxDisks)) {
            await expectClean("disk '\(name)'") { try await exercise(disk: name, store: store, clock: clock) }
        }
        await expectClean("createDisk") { try await store.createDisk(name: "new", size: 1 << 20) }
        await expectClean("check") { _ = try await store.check() }
        await expectClean("repair") { _ = try await store.check(repair: true) }
        await expectClean("deleteDisk") { try await store.deleteDisk(name: deepDisk.name) }
        await expectClean("unmount") { try await store.unmount() }
    }

    /// Opens a disk (breaking a dead holder's lock after a lease), reads where the deep
    /// disk has data and at its end, writes a block, grows it and closes it.
    private static func exercise(disk name: String, store: Datastore, clock: ManualDatastoreClock) async throws {
        _ = try await store.diskInfo(name: name)
        let disk: VirtualDisk
        do {
            disk = try await store.openDisk(name: name)
        } catch let error as DatastoreError where error.code == .locked {
            // Let the holder's heartbeat stand still for a lease while ours keeps renewing.
            for _ in 0..<2 {
                clock.advance(by: .seconds(9))
                try await store.renewHeartbeat()
            }
            disk = try await store.openDisk(name: name)
        }
        let size = disk.size
        for offset in deepDisk.writes + [size >= 4096 ? size - 4096 : 0] where size >= 4096 && offset <= size - 4096 {
            await expectClean("read of '\(name)'") {
                let data = try await disk.read(offset: offset, length: 4096)
                precondition(data.readableBytes == 4096, "read of 4096 bytes of '\(name)' returned \(data.readableBytes)")
            }
        }
        if size >= 512 {
            await expectClean("write of '\(name)'") { try await disk.write(ByteBuffer(repeating: 0x5A, count: 512), offset: 0, fua: true) }
        }
        await expectClean("grow of '\(name)'") { try await disk.grow(to: size + (1 << 20)) }
        try await disk.close()
    }
}
