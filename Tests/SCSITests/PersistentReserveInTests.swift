// PERSISTENT RESERVE IN data: READ KEYS, READ RESERVATION, REPORT CAPABILITIES.

import SCSI
import Testing

@Suite struct PersistentReserveInTests {
    /// Generation 3, two registered keys.
    static let readKeys: [UInt8] = [
        0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x10,
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xAB, 0xCD,
    ]

    @Test func readKeys() throws {
        let keys = try PersistentReservationKeys(parsing: Self.readKeys)
        #expect(keys == PersistentReservationKeys(generation: 3, keys: [0x1122_3344_5566_7788, 0xABCD]))
        #expect(try PersistentReservationKeys(parsing: [0, 0, 0, 9, 0, 0, 0, 0]).keys.isEmpty)
        TruncationCheck.expectPrefixes(of: Self.readKeys) { try PersistentReservationKeys(parsing: $0) }
        let error = try #require(throws: SCSIParseError.self) {
            try PersistentReservationKeys(parsing: Array(Self.readKeys.prefix(12)))
        }
        #expect(error.neededBytes == 24)
        #expect(throws: SCSIParseError.self) {
            try PersistentReservationKeys(parsing: [0, 0, 0, 1, 0, 0, 0, 0x04, 1, 2, 3, 4])
        }
        TruncationCheck.expectNoTrapOnGarbage { try PersistentReservationKeys(parsing: [0, 0, 0, 0, 0, 0, 0] + $0) }
    }

    /// Generation 7, key 0xABCD holds WRITE EXCLUSIVE, REGISTRANTS ONLY.
    static let readReservation: [UInt8] = [
        0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x10,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xAB, 0xCD,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00,
    ]

    @Test func readReservation() throws {
        let status = try PersistentReservationStatus(parsing: Self.readReservation)
        #expect(status.generation == 7)
        #expect(status.holder == .init(key: 0xABCD, type: .writeExclusiveRegistrantsOnly))
        TruncationCheck.expectPrefixes(of: Self.readReservation) { try PersistentReservationStatus(parsing: $0) }
        TruncationCheck.expectNoTrapOnGarbage { try PersistentReservationStatus(parsing: $0) }
    }

    @Test func readReservationWithoutHolder() throws {
        let status = try PersistentReservationStatus(parsing: [0, 0, 0, 2, 0, 0, 0, 0])
        #expect(status == PersistentReservationStatus(generation: 2, holder: nil))
    }

    @Test func readReservationRejectsNonsense() {
        var badType = Self.readReservation
        badType[21] = 0x02
        #expect(throws: SCSIParseError.self) { try PersistentReservationStatus(parsing: badType) }
        var badScope = Self.readReservation
        badScope[21] = 0x15
        #expect(throws: SCSIParseError.self) { try PersistentReservationStatus(parsing: badScope) }
        var badLength = Self.readReservation
        badLength[7] = 0x08
        #expect(throws: SCSIParseError.self) { try PersistentReservationStatus(parsing: badLength) }
    }

    /// What tgt reports: PTPL_C, ATP_C, SIP_C, CRH, TMV with all six types.
    static let capabilities: [UInt8] = [0x00, 0x08, 0x1D, 0x80, 0xEA, 0x01, 0x00, 0x00]

    @Test func reportCapabilities() throws {
        let caps = try PersistentReservationCapabilities(parsing: Self.capabilities)
        #expect(!caps.replaceLostReservation)
        #expect(caps.compatibleReservationHandling)
        #expect(caps.specifyInitiatorPorts)
        #expect(caps.allTargetPorts)
        #expect(caps.persistThroughPowerLoss)
        #expect(caps.typeMaskValid)
        #expect(caps.allowCommands == 0)
        #expect(!caps.persistThroughPowerLossActivated)
        #expect(caps.supportedTypes == Set(PersistentReservationType.allCases))
        TruncationCheck.expectPrefixes(of: Self.capabilities) { try PersistentReservationCapabilities(parsing: $0) }
        TruncationCheck.expectNoTrapOnGarbage { try PersistentReservationCapabilities(parsing: $0) }
    }

    @Test func reportCapabilitiesTypeMaskBits() throws {
        // Allow commands 2, PTPL_A, only WRITE EXCLUSIVE and EXCLUSIVE ACCESS.
        let caps = try PersistentReservationCapabilities(parsing: [0x00, 0x08, 0x00, 0xA1, 0x0A, 0x00, 0, 0])
        #expect(caps.allowCommands == 2)
        #expect(caps.persistThroughPowerLossActivated)
        #expect(caps.supportedTypes == [.writeExclusive, .exclusiveAccess])
        // Without TMV the mask means nothing.
        let noMask = try PersistentReservationCapabilities(parsing: [0x00, 0x08, 0x00, 0x00, 0xFF, 0xFF, 0, 0])
        #expect(noMask.supportedTypes.isEmpty)
    }
}
