// Inputs FuzzDatastoreMetadata crashed on, replayed through the same entry points on a
// real image file; and the record half of the entry point on structured inputs.

import BlockDevice
@_spi(Fuzzing) @testable import Datastore
import Foundation
import NIOCore
import TestSupport
import Testing

@Suite struct MetadataFuzzingTests {
    /// Prepares the fuzzer's scratch volume in an image file and applies `base64` to it as
    /// the fuzzer does. A trap (the crash the input once caused) ends the test run.
    private func replay(_ base64: String) async throws {
        let directory = TemporaryDirectory("fuzz-replay")
        let device = try FileBlockDevice.create(path: directory.file("scratch.img"), byteCount: MetadataFuzzing.scratchDeviceBytes)
        try await MetadataFuzzing.prepareScratchVolume(on: device)
        let input = try #require(Data(base64Encoded: base64))
        await MetadataFuzzing.exerciseVolume(Array(input), device: device)
        try await device.close()
    }

    /// Found by the first run: patches that leave a descriptor's block count at 0 while
    /// its map still names blocks; deleting the disk then took 1 from 0 (a trap).
    @Test func deletingADiskWhoseBlockCountIsZero() async throws {
        try await replay(
            "Cwj//////////yDs3d3d3d3d3d3d3d3d3d3d3d3d3d3dAQAADAAAgAsI/////////21ldGE6SW5kbwAAAAAAAAAAAAAAAAAAAAAAAN3d3d3d3d0BAAAMAACACwj/////////bXRhOkluZG9u"
                + "3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d/5b///8AIf//+V9fXwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADd3d3d3d3dAQAADAAA"
                + "gAsI/////////210YTpJbmRvbt3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3f+W////AF9fXw=="
        )
    }

    /// The same damage spelled out: a count of 0 stays 0 when blocks are freed, and check
    /// reports the count against the map rather than a wrapped one.
    @Test func freeingBlocksOfADiskCountedAsEmpty() async throws {
        let fixture = try await DatastoreFixture()
        let store = try await fixture.mount("a")
        try await store.createDisk(name: "d", size: 4 << 20)
        let disk = try await store.openDisk(name: "d")
        try await disk.write(ByteBuffer(repeating: 1, count: 128 << 10), offset: 0, fua: true)
        try await disk.close()
        let (index, found) = try await store.findDisk("d")
        #expect(found.allocatedBlocks == 2)
        var descriptor = found
        descriptor.allocatedBlocks = 0
        try await store.writeBytes(descriptor.encoded(), at: store.header.descriptorUnit(index))

        let reopened = try await store.openDisk(name: "d")
        try await reopened.unmap([BlockRange(lba: 0, blockCount: UInt32((64 << 10) / 512))])
        #expect(reopened.info.allocatedBlocks == 0)
        try await reopened.close()
        let report = try await store.check()
        #expect(report.issues.map(\.message) == ["disk 'd' says it holds 0 blocks but its map names 1"])
        try await store.deleteDisk(name: "d")
        #expect(try await store.check().isClean)
        try await store.unmount()
    }

    @Test func recordDecodersSurviveStructuredInputs() {
        var samples: [[UInt8]] = [[], [0], Array("VDSKVOL1".utf8), Array("VDHB".utf8), [UInt8](repeating: 0xFF, count: 4096)]
        samples.append(Array(RecordDecodingTests.header.encoded().readableBytesView))
        samples.append(Array(DiskDescriptor(inUse: true, name: "x", size: 512).encoded().readableBytesView))
        samples.append(Array(ClusterBitmap(index: 0, firstBlock: 4, blockCount: 13).encoded().readableBytesView))
        for magic in ["VDLK", "VDFD", "VDPP", "VDRC", "VDJH", "VDJT"] {
            var unit = [UInt8](repeating: 0xA5, count: 4096)
            unit.replaceSubrange(0..<4, with: Array(magic.utf8))
            samples.append(unit)
        }
        for sample in samples {
            sample.withUnsafeBytes { MetadataFuzzing.exerciseRecords($0) }
        }
        #expect(samples.count == 14)
    }
}
