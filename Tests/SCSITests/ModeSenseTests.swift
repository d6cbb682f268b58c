// MODE SENSE(10) data: header, block descriptors, the Caching and Control pages
// decoded, other pages kept raw.

import SCSI
import Testing

@Suite struct ModeSenseTests {
    static let cachingPage: [UInt8] = [
        0x88, 0x12, 0x04, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF,
        0xFF, 0xFF, 0xA0, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]
    static let controlPage: [UInt8] = [0x0A, 0x0A, 0x04, 0x12, 0x08, 0x40, 0x00, 0x00, 0x01, 0x2C, 0x00, 0x3C]
    static let controlExtension: [UInt8] = [0x4A, 0x01, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04]
    static let informationalExceptions: [UInt8] = [0x1C, 0x0A, 0x08, 0x06] + [UInt8](repeating: 0, count: 8)

    /// All pages with one short block descriptor: 2 Mi blocks of 512 bytes, DPOFUA.
    static let allPages: [UInt8] = {
        let pages = cachingPage + controlPage + controlExtension + informationalExceptions
        let descriptor: [UInt8] = [0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00]
        let length = 6 + descriptor.count + pages.count
        return [UInt8(length >> 8), UInt8(length & 0xFF), 0x00, 0x10, 0x00, 0x00, 0x00, 0x08] + descriptor + pages
    }()

    @Test func allPagesFromATarget() throws {
        #expect(Self.allPages.count == 68)
        let data = try ModeSenseData(parsing: Self.allPages)
        #expect(data.mediumType == 0)
        #expect(data.supportsDPOAndFUA)
        #expect(!data.writeProtected)
        #expect(!data.longLBA)
        #expect(data.blockDescriptors == [ModeBlockDescriptor(blockCount: 0x20_0000, blockLength: 512)])
        #expect(data.pages.map(\.pageCode) == [0x08, 0x0A, 0x0A, 0x1C])
        #expect(data.pages.map(\.subpageCode) == [nil, nil, 0x01, nil])
        #expect(data.pages[0].parametersSaveable)
        #expect(data.pages[2].parameters == [1, 2, 3, 4])
        #expect(data.pages[3].parameters == Array(Self.informationalExceptions[2...]))

        let caching = try #require(data.caching)
        #expect(caching.writeCacheEnabled)
        #expect(!caching.readCacheDisabled)
        #expect(caching.disableReadAhead)
        #expect(!caching.nonVolatileCacheDisabled)
        #expect(caching.numberOfCacheSegments == 20)
        #expect(caching.cacheSegmentSize == 0)

        let control = try #require(data.control)
        #expect(control.taskSetType == 0)
        #expect(control.descriptorSense)
        #expect(!control.taskManagementFunctionsOnly)
        #expect(control.queueAlgorithmModifier == 1)
        #expect(control.queueErrorManagement == 1)
        #expect(!control.noUnitAttentionOnRelease)
        #expect(control.softwareWriteProtect)
        #expect(!control.reportACheck)
        #expect(control.taskAbortedStatus)
        #expect(!control.applicationTagOwner)
        #expect(control.busyTimeoutPeriod == 300)
        #expect(control.extendedSelfTestCompletionTime == 60)
    }

    @Test func writeProtectedLongLBAWithoutPages() throws {
        let bytes: [UInt8] = [
            0x00, 0x16, 0x00, 0x80, 0x01, 0x00, 0x00, 0x10,
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
        ]
        let data = try ModeSenseData(parsing: bytes)
        #expect(data.writeProtected)
        #expect(!data.supportsDPOAndFUA)
        #expect(data.longLBA)
        #expect(data.blockDescriptors == [ModeBlockDescriptor(blockCount: 0x1_0000_0000, blockLength: 4096)])
        #expect(data.pages.isEmpty)
        #expect(data.caching == nil)
        #expect(data.control == nil)
    }

    @Test func truncatedAndGarbage() throws {
        TruncationCheck.expectPrefixes(of: Self.allPages) { try ModeSenseData(parsing: $0) }
        let error = try #require(throws: SCSIParseError.self) {
            try ModeSenseData(parsing: Array(Self.allPages.prefix(20)))
        }
        #expect(error.neededBytes == 68)
        TruncationCheck.expectNoTrapOnGarbage { try ModeSenseData(parsing: [0x00] + $0) }
    }

    @Test func malformedDataIsRejected() {
        // Block descriptor length 6 is not a multiple of 8.
        let oddDescriptors: [UInt8] = [0x00, 0x0C, 0, 0, 0, 0, 0x00, 0x06, 0, 0, 0, 0, 0, 0]
        #expect(throws: SCSIParseError.self) { try ModeSenseData(parsing: oddDescriptors) }
        // A page whose length runs past the mode data length.
        let overrun: [UInt8] = [0x00, 0x0A, 0, 0, 0, 0, 0x00, 0x00, 0x08, 0x12, 0x04, 0x00]
        #expect(throws: SCSIParseError.self) { try ModeSenseData(parsing: overrun) }
        // A Caching page shorter than SBC-4's 0x12 bytes.
        let shortCaching: [UInt8] = [0x00, 0x0A, 0, 0, 0, 0, 0x00, 0x00, 0x08, 0x02, 0x04, 0x00]
        #expect(throws: SCSIParseError.self) { try ModeSenseData(parsing: shortCaching) }
        // A MODE DATA LENGTH too small to cover its own header.
        #expect(throws: SCSIParseError.self) { try ModeSenseData(parsing: [0x00, 0x02, 0, 0, 0, 0, 0, 0]) }
    }

    @Test func pageDecodersCheckThePageCode() {
        let page = ModePage(pageCode: 0x1C, parameters: [UInt8](repeating: 0, count: 18))
        #expect(throws: SCSIParseError.self) { try CachingModePage(parsing: page) }
        #expect(throws: SCSIParseError.self) { try ControlModePage(parsing: page) }
    }
}
