// Geometry arithmetic and the shared range check.

import BlockDevice
import Testing

@Suite struct BlockGeometryTests {
    @Test func byteCount() {
        let geometry = BlockGeometry(blockSize: 512, blockCount: 2_097_152)
        #expect(geometry.byteCount == 1 << 30)
        #expect(geometry.description == "2097152 blocks of 512 bytes")
    }

    @Test func errorDescriptionsNameTheCodeAndTheObject() {
        let error = BlockDeviceError(.outOfRange, "read of 8 blocks at LBA 100 is past the end")
        #expect(error.description == "out of range: read of 8 blocks at LBA 100 is past the end")
        #expect(error.code == .outOfRange)
        #expect(error.code != .miscompare)
    }
}
