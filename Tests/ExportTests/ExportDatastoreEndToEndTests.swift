// Datastore disks served by `vdiskctl export serve`, end to end: QEMU (libiscsi inside)
// and our own initiator write through the export, the export is stopped, and
// `vdiskctl disk read` finds the same bytes in the datastore. The datastore sits on an
// image file, and on a real tgtd LUN, so the whole chain client → export → datastore →
// native initiator → tgtd carries the data.

import Foundation
import ISCSI
import NIOCore
import SCSI
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(5))) struct ExportDatastoreEndToEndTests {
    /// Where the datastore lives in one run of the shared body.
    enum Backing: String, CaseIterable, CustomStringConvertible {
        case imageFile
        case tgtLUN
        var description: String { rawValue }
    }

    @Test(arguments: Backing.allCases)
    func writesThroughTheExportReadBackThroughTheExportAndFromTheDatastore(backing: Backing) async throws {
        switch backing {
        case .imageFile:
            let directory = try ScratchDirectory(prefix: "export-e2e")
            defer { directory.remove() }
            try await Self.roundTrip(datastore: directory.file("datastore.img"), imageSize: "256MiB", directory: directory)
        case .tgtLUN:
            let iqn = "iqn.2026-11.org.vdiskd.test:e2e-datastore"
            let spec = TgtTargetSpec(iqn: iqn, luns: [.file(1, size: 256 << 20)])
            try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
                try await Self.roundTrip(datastore: tgt.url(iqn, lun: 1), imageSize: nil, directory: tgt.directory)
            }
        }
    }

    /// Formats `datastore`, creates two thin disks, serves them as LUN 0 and 1, writes
    /// through the export with qemu-img, qemu-io, libiscsi and the native initiator, reads each back
    /// through the export, stops it, and reads each again with `vdiskctl disk read`.
    static func roundTrip(datastore: String, imageSize: String?, directory: ScratchDirectory) async throws {
        let format = ["datastore", "format", datastore, "--label", "e2e", "--block-size", "64k", "--max-hosts", "8", "--max-disks", "16"]
        try await VDiskCtl.run(format + (imageSize.map { ["--image-size", $0] } ?? []), in: directory).check()
        try await VDiskCtl.run(["disk", "create", datastore, "vm0", "--size", "32MiB"], in: directory).check()
        try await VDiskCtl.run(["disk", "create", datastore, "vm1", "--size", "16MiB"], in: directory).check()

        // What goes where: a 4 MiB image at the start of vm0; three qemu-io patterns and one
        // native write on vm1, one of them 512 bytes past a MiB and 1.5 KiB long.
        let image = TestPattern.bytes(seed: 0xE2E, count: 4 << 20)
        let imagePath = directory.file("source.raw")
        try Data(image.readableBytesView).write(to: URL(fileURLWithPath: imagePath))
        let patterns: [(offset: Int, length: Int, byte: UInt8)] = [(1 << 20, 192 << 10, 0xA5), (15 << 20, 64 << 10, 0x3C), ((7 << 20) + 512, 1536, 0x11)]
        let nativeOffset = 9 << 20
        let native = TestPattern.bytes(seed: 0x9A7, count: 256 << 10)
        // And one write by libiscsi itself, through vdiskctl's libiscsi engine.
        let libiscsiOffset = 11 << 20
        let libiscsiData = TestPattern.bytes(seed: 0x11B, count: 128 << 10)
        let libiscsiIn = directory.file("libiscsi.raw")
        try Data(libiscsiData.readableBytesView).write(to: URL(fileURLWithPath: libiscsiIn))

        try await ServedExport.with([datastore, "vm0", "vm1", "--host-name", "exporter"], in: directory) { export in
            let lun0 = export.url(lun: 0)
            let lun1 = export.url(lun: 1)
            try await ExternalCommand.run(.qemuImg, ["convert", "-n", "-f", "raw", "-O", "raw", imagePath, lun0], timeout: .seconds(120)).check()
            let compare = try await ExternalCommand.run(.qemuImg, ["compare", "-f", "raw", "-F", "raw", imagePath, lun0], timeout: .seconds(120))
            #expect(compare.status.isSuccess, "qemu-img compare: \(compare)")

            let writes = patterns.flatMap { ["-c", "write -P \($0.byte) \($0.offset) \($0.length)"] }
            let wrote = try await ExternalCommand.run(.qemuIo, ["-f", "raw"] + writes + [lun1], timeout: .seconds(60)).check()
            #expect(!wrote.output.contains("failed"), "\(wrote)")

            let session = try await ISCSISession.connect(ISCSISessionConfiguration(
                portal: TargetPortal(host: export.portal.host, port: export.portal.port), targetName: export.iqn,
                initiatorName: "iqn.2025-01.io.vdiskd:e2e-native", loginTimeout: .seconds(10)
            ))
            try await Self.clearUnitAttentions(session, lun: 1)
            let lba = UInt32(nativeOffset / 512)
            let blocks = UInt16(native.readableBytes / 512)
            let write = try await session.execute(SCSITaskRequest(lun: 1, cdb: Self.cdb10(0x2A, lba: lba, blocks: blocks), dataOut: native))
            #expect(write.isGood, "native WRITE(10): status \(write.status)")
            let readBack = try await session.execute(SCSITaskRequest(lun: 1, cdb: Self.cdb10(0x28, lba: lba, blocks: blocks), expectedDataInLength: native.readableBytes))
            #expect(readBack.isGood && readBack.data == native, "native READ(10) through the export")
            try await session.logout()

            let libiscsiLBA = "\(libiscsiOffset / 512)"
            try await VDiskCtl.run(["target", "write", lun1, "--engine", "libiscsi", "--lba", libiscsiLBA, "--in", libiscsiIn], in: directory).check()
            let libiscsiOut = directory.file("libiscsi-back.raw")
            try await VDiskCtl.run(
                ["target", "read", lun1, "--engine", "libiscsi", "--lba", libiscsiLBA, "--blocks", "\(libiscsiData.readableBytes / 512)", "--out", libiscsiOut],
                in: directory
            ).check()
            #expect(FileManager.default.contents(atPath: libiscsiOut) == Data(libiscsiData.readableBytesView), "libiscsi read back through the export")

            // qemu-io checks each pattern through the export (a mismatch prints "Pattern verification failed").
            let reads = patterns.flatMap { ["-c", "read -P \($0.byte) \($0.offset) \($0.length)"] }
            let verified = try await ExternalCommand.run(.qemuIo, ["-f", "raw", "-r"] + reads + [lun1], timeout: .seconds(60)).check()
            #expect(!verified.output.contains("failed"), "\(verified)")
            #expect(verified.output.components(separatedBy: "read ").count - 1 == patterns.count, "\(verified)")
        }

        // The datastore itself, with the export gone: the same bytes, and holes still zero.
        #expect(try await Self.diskRead(datastore, "vm0", offset: 0, length: 4 << 20, in: directory) == Array(image.readableBytesView))
        for pattern in patterns {
            let bytes = try await Self.diskRead(datastore, "vm1", offset: pattern.offset, length: pattern.length, in: directory)
            #expect(bytes == [UInt8](repeating: pattern.byte, count: pattern.length), "vm1 at \(pattern.offset)")
        }
        #expect(try await Self.diskRead(datastore, "vm1", offset: nativeOffset, length: native.readableBytes, in: directory) == Array(native.readableBytesView))
        #expect(try await Self.diskRead(datastore, "vm1", offset: libiscsiOffset, length: libiscsiData.readableBytes, in: directory) == Array(libiscsiData.readableBytesView))
        #expect(try await Self.diskRead(datastore, "vm1", offset: 3 << 20, length: 64 << 10, in: directory) == [UInt8](repeating: 0, count: 64 << 10))

        // Both disks stayed thin: only the blocks written were allocated.
        for (name, size, written) in [("vm0", 32 << 20, 4 << 20), ("vm1", 16 << 20, 5 * (64 << 10) + native.readableBytes)] {
            let info = try await VDiskCtl.run(["disk", "info", datastore, name, "--json"], in: directory).check()
            let fields = try info.json()
            #expect(fields["kind"] as? String == "thin")
            let allocated = try #require(fields["allocatedBytes"] as? Int, "\(info)")
            #expect(allocated >= written && allocated < size / 2, "\(name): \(allocated) bytes allocated")
        }
        let check = try await VDiskCtl.run(["datastore", "check", datastore], in: directory)
        #expect(check.status.isSuccess, "\(check)")
    }

    /// `vdiskctl disk read` of a byte range into a file, returned as bytes.
    static func diskRead(_ datastore: String, _ disk: String, offset: Int, length: Int, in directory: ScratchDirectory) async throws -> [UInt8] {
        let output = directory.file("read-\(UUID().uuidString.prefix(8)).raw")
        try await VDiskCtl.run(["disk", "read", datastore, disk, "--offset", "\(offset)", "--length", "\(length)", "--out", output], in: directory).check()
        return Array(try #require(FileManager.default.contents(atPath: output)))
    }

    /// A READ(10) or WRITE(10) CDB.
    static func cdb10(_ opcode: UInt8, lba: UInt32, blocks: UInt16) -> [UInt8] {
        [opcode, 0] + withUnsafeBytes(of: lba.bigEndian, Array.init) + [0] + withUnsafeBytes(of: blocks.bigEndian, Array.init) + [0]
    }

    /// TEST UNIT READY until GOOD (a fresh nexus first hears POWER ON, RESET), at most five times.
    static func clearUnitAttentions(_ session: ISCSISession, lun: UInt64) async throws {
        for _ in 0..<5 {
            if try await session.execute(SCSITaskRequest(lun: lun, cdb: [0, 0, 0, 0, 0, 0])).isGood { return }
        }
        Issue.record("TEST UNIT READY on LUN \(lun) never returned GOOD")
    }
}
