// Sense data in both formats: parsing what real targets send, building it,
// and round trips through builder and parser.

import SCSI
import Testing

@Suite struct SenseDataTests {
    /// What tgt sends for a WRITE past the end of the LUN: fixed format, 18 bytes.
    static let lbaOutOfRangeFixed: [UInt8] = [
        0x70, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x0A,
        0x00, 0x00, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]

    /// COMPARE AND WRITE miscompare at byte offset 0x123 in descriptor format,
    /// with an information descriptor as SBC-4 §5.3 requires.
    static let miscompareDescriptor: [UInt8] = [
        0x72, 0x0E, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x0C,
        0x00, 0x0A, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x23,
    ]

    @Test func fixedFormatFromTgt() throws {
        let sense = try SenseData(parsing: Self.lbaOutOfRangeFixed)
        #expect(sense.format == .fixed)
        #expect(!sense.isDeferred)
        #expect(sense.senseKey == .illegalRequest)
        #expect(sense.additionalSenseCode == .logicalBlockAddressOutOfRange)
        #expect(sense.information == nil)
        #expect(sense.senseKeySpecific == nil)
        #expect(sense.description == "ILLEGAL REQUEST: LOGICAL BLOCK ADDRESS OUT OF RANGE (ASC 0x21, ASCQ 0x00)")
    }

    @Test func fixedFormatWithInformationAndFieldPointer() throws {
        // Deferred, VALID, ILI, information 0x00ABCDEF, field pointer at CDB byte 2 bit 5.
        let bytes: [UInt8] = [
            0xF1, 0x00, 0x25, 0x00, 0xAB, 0xCD, 0xEF, 0x0A,
            0x00, 0x00, 0x00, 0x07, 0x24, 0x00, 0x00, 0xCD, 0x00, 0x02,
        ]
        let sense = try SenseData(parsing: bytes)
        #expect(sense.isDeferred)
        #expect(sense.incorrectLengthIndicator)
        #expect(!sense.filemark && !sense.endOfMedium)
        #expect(sense.information == 0x00AB_CDEF)
        #expect(sense.commandSpecificInformation == 7)
        #expect(sense.senseKeySpecific == .fieldPointer(inCDB: true, byte: 2, bit: 5))
        #expect(sense.description.hasPrefix("deferred ILLEGAL REQUEST: INVALID FIELD IN CDB"))
    }

    @Test func fixedFormatProgressIndication() throws {
        // NOT READY, FORMAT IN PROGRESS, half done.
        let bytes: [UInt8] = [
            0x70, 0x00, 0x02, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x04, 0x04, 0x00, 0x80, 0x80, 0x00,
        ]
        let sense = try SenseData(parsing: bytes)
        #expect(sense.senseKeySpecific == .progressIndication(0x8000))
        #expect(sense.senseKeySpecific?.description == "progress 50%")
    }

    @Test func shortAdditionalLengthReadsMissingFieldsAsZero() throws {
        // Additional sense length 6 stops right after ASCQ.
        let sense = try SenseData(parsing: [0x70, 0, 0x06, 0, 0, 0, 0, 0x06, 0, 0, 0, 0, 0x2A, 0x09])
        #expect(sense.senseKey == .unitAttention)
        #expect(sense.additionalSenseCode == .capacityDataHasChanged)
        #expect(sense.fieldReplaceableUnitCode == nil)
    }

    @Test func paddingAfterAnnouncedLengthIsIgnored() throws {
        let sense = try SenseData(parsing: Self.lbaOutOfRangeFixed + [0xFF, 0xFF, 0xFF])
        #expect(sense.additionalSenseCode == .logicalBlockAddressOutOfRange)
    }

    @Test func descriptorFormatMiscompare() throws {
        let sense = try SenseData(parsing: Self.miscompareDescriptor)
        #expect(sense.format == .descriptor)
        #expect(sense.senseKey == .miscompare)
        #expect(sense.additionalSenseCode == .miscompareDuringVerifyOperation)
        #expect(sense.information == 0x123)
        #expect(sense.miscompareOffset == 0x123)
        #expect(sense.description == "MISCOMPARE: MISCOMPARE DURING VERIFY OPERATION (ASC 0x1D, ASCQ 0x00)")
    }

    @Test func descriptorFormatKeepsUnknownDescriptors() throws {
        // A block commands descriptor (ILI) and an ATA status return descriptor (0x09).
        let ata: [UInt8] = [0x09, 0x0C] + [UInt8](0...11)
        let bytes: [UInt8] = [0x72, 0x01, 0x00, 0x1D, 0x00, 0x00, 0x00, 0x12, 0x05, 0x02, 0x00, 0x20] + ata
        let sense = try SenseData(parsing: bytes)
        #expect(sense.senseKey == .recoveredError)
        #expect(sense.incorrectLengthIndicator)
        #expect(sense.otherDescriptors == [SenseDescriptor(type: 0x09, body: [UInt8](0...11))])
    }

    @Test func descriptorThatOverrunsIsRejected() {
        // Additional sense length 4, but the descriptor claims 10 bytes.
        let bytes: [UInt8] = [0x72, 0x05, 0x24, 0x00, 0, 0, 0, 0x04, 0x00, 0x0A, 0x80, 0x00]
        #expect(throws: SCSIParseError.self) { try SenseData(parsing: bytes) }
        // An information descriptor too short for its 8-byte field.
        let short: [UInt8] = [0x72, 0x05, 0x24, 0x00, 0, 0, 0, 0x04, 0x00, 0x02, 0x80, 0x00]
        #expect(throws: SCSIParseError.self) { try SenseData(parsing: short) }
    }

    @Test func unknownResponseCodeIsRejected() throws {
        let error = try #require(throws: SCSIParseError.self) {
            try SenseData(parsing: [0x7F, 0, 0, 0, 0, 0, 0, 0])
        }
        #expect(error.code == .invalidField)
        #expect(error.description.contains("response code 0x7F"))
    }

    @Test func truncatedSenseThrows() {
        TruncationCheck.expectPrefixes(of: Self.lbaOutOfRangeFixed) { try SenseData(parsing: $0) }
        TruncationCheck.expectPrefixes(of: Self.miscompareDescriptor) { try SenseData(parsing: $0) }
        TruncationCheck.expectNoTrapOnGarbage { try SenseData(parsing: $0) }
        // Garbage with a valid response code exercises the descriptor walk.
        TruncationCheck.expectNoTrapOnGarbage(seed: 1) { try SenseData(parsing: [0x72] + $0) }
        TruncationCheck.expectNoTrapOnGarbage(seed: 2) { try SenseData(parsing: [0x70] + $0) }
    }

    @Test func fixedFormatEncoding() {
        let sense = SenseData(
            senseKey: .dataProtect,
            additionalSenseCode: .writeProtected,
            information: 0x10,
            senseKeySpecific: nil,
            fieldReplaceableUnitCode: 3
        )
        #expect(sense.encoded() == [
            0xF0, 0x00, 0x07, 0x00, 0x00, 0x00, 0x10, 0x0A,
            0x00, 0x00, 0x00, 0x00, 0x27, 0x00, 0x03, 0x00, 0x00, 0x00,
        ])
    }

    @Test func descriptorFormatEncoding() throws {
        let sense = SenseData(
            format: .descriptor,
            senseKey: .illegalRequest,
            additionalSenseCode: .invalidFieldInCDB,
            senseKeySpecific: .fieldPointer(inCDB: true, byte: 1, bit: nil)
        )
        #expect(sense.encoded() == [
            0x72, 0x05, 0x24, 0x00, 0x00, 0x00, 0x00, 0x08,
            0x02, 0x06, 0x00, 0x00, 0xC0, 0x00, 0x01, 0x00,
        ])
        #expect(try SenseData(parsing: Self.miscompareDescriptor).encoded() == Self.miscompareDescriptor)
    }

    static let roundTripSamples: [SenseData] = [
        SenseData(senseKey: .illegalRequest, additionalSenseCode: .logicalBlockAddressOutOfRange),
        SenseData(
            isDeferred: true,
            senseKey: .mediumError,
            additionalSenseCode: .unrecoveredReadError,
            information: 0x0012_3456,
            commandSpecificInformation: 0x99,
            senseKeySpecific: .actualRetryCount(17),
            fieldReplaceableUnitCode: 0x42
        ),
        SenseData(
            senseKey: .illegalRequest,
            additionalSenseCode: .invalidFieldInParameterList,
            senseKeySpecific: .fieldPointer(inCDB: false, byte: 0x0102, bit: 7)
        ),
        SenseData(senseKey: .notReady, additionalSenseCode: .logicalUnitNotReadyFormatInProgress, senseKeySpecific: .progressIndication(0x1234)),
        SenseData(senseKey: .copyAborted, additionalSenseCode: AdditionalSenseCode(asc: 0x26, ascq: 0x08), senseKeySpecific: .segmentPointer(inSegmentDescriptor: true, byte: 40, bit: 3)),
        SenseData(senseKey: .unitAttention, additionalSenseCode: .reservationsPreempted, senseKeySpecific: .unitAttentionConditionQueueOverflow(true)),
        SenseData(senseKey: .abortedCommand, additionalSenseCode: .dataPhaseError, senseKeySpecific: .raw(byte0: 0x01, byte1: 0x02, byte2: 0x03)),
        SenseData(senseKey: .miscompare, additionalSenseCode: .miscompareDuringVerifyOperation, information: 511),
        SenseData(senseKey: .mediumError, additionalSenseCode: .unrecoveredReadError, filemark: true, endOfMedium: true, incorrectLengthIndicator: true),
        SenseData(senseKey: .recoveredError, additionalSenseCode: AdditionalSenseCode(asc: 0x17, ascq: 0x01), incorrectLengthIndicator: true),
    ]

    @Test(arguments: roundTripSamples)
    func roundTripsInBothFormats(sample: SenseData) throws {
        for format in [SenseData.Format.fixed, .descriptor] {
            var expected = sample
            expected.format = format
            let parsed = try SenseData(parsing: expected.encoded())
            #expect(parsed == expected, "\(format)")
        }
    }

    @Test func descriptorOnlyValuesRoundTripInDescriptorFormat() throws {
        let sense = SenseData(
            format: .descriptor,
            senseKey: .miscompare,
            additionalSenseCode: .miscompareDuringVerifyOperation,
            information: 0x1_0000_0000,
            commandSpecificInformation: 0xFFFF_FFFF_FFFF,
            otherDescriptors: [SenseDescriptor(type: 0x0A, body: [0x06, 0x00, 0x40, 0x00])]
        )
        #expect(try SenseData(parsing: sense.encoded()) == sense)
    }

    @Test func fixedFormatDropsWhatDoesNotFit() throws {
        let sense = SenseData(
            senseKey: .miscompare,
            additionalSenseCode: .miscompareDuringVerifyOperation,
            information: 0x1_0000_0000,
            commandSpecificInformation: 0x1_0000_0000
        )
        let bytes = sense.encoded(as: .fixed)
        #expect(bytes[0] == 0x70, "VALID must be clear when INFORMATION does not fit")
        let parsed = try SenseData(parsing: bytes)
        #expect(parsed.information == nil)
        #expect(parsed.commandSpecificInformation == nil)
    }

    @Test func oversizedDescriptorListSetsOverflow() throws {
        let big = SenseDescriptor(type: 0x80, body: [UInt8](repeating: 0xAA, count: 200))
        let sense = SenseData(
            format: .descriptor,
            senseKey: .hardwareError,
            additionalSenseCode: .internalTargetFailure,
            otherDescriptors: [big, big]
        )
        let bytes = sense.encoded()
        #expect(bytes.count <= SenseData.maximumLength)
        let parsed = try SenseData(parsing: bytes)
        #expect(parsed.senseDataOverflow)
        #expect(parsed.otherDescriptors == [big])
    }
}
