// REPORT SUPPORTED OPERATION CODES data: the all-commands list and the
// one-command form with its support field and CDB usage map.

import SCSI
import Testing

@Suite struct SupportedOperationCodesTests {
    static let allCommands: [UInt8] = [0x00, 0x00, 0x00, 0x34]
        + [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06]  // TEST UNIT READY
        + [0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10]  // READ(16)
        + [0x9E, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x10]  // READ CAPACITY(16)
        + [0x5E, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0A]  // PR IN / READ KEYS
        + [0x8A, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x10]  // WRITE(16) with timeouts:
        + [0x00, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1E, 0x00, 0x00, 0x00, 0x3C]

    @Test func allCommandsList() throws {
        let list = try SupportedOperationCodes(parsing: Self.allCommands)
        #expect(list.commands.count == 5)
        #expect(list.commands.map(\.operationCode) == [0x00, 0x88, 0x9E, 0x5E, 0x8A])
        #expect(list.commands.map(\.serviceAction) == [nil, nil, 0x10, 0x00, nil])
        #expect(list.commands.map(\.cdbLength) == [6, 16, 16, 10, 16])
        #expect(list.commands[4].timeouts == CommandTimeouts(commandSpecific: 0, nominalProcessingSeconds: 30, recommendedSeconds: 60))
        #expect(list.commands[2].name == "READ CAPACITY(16)")
        #expect(list.commands[3].description == "PERSISTENT RESERVE IN (READ KEYS), 10-byte CDB")
        #expect(list.supports(.read16))
        #expect(list.supports(.serviceActionIn16, serviceAction: 0x10))
        #expect(!list.supports(.serviceActionIn16, serviceAction: 0x12))
        #expect(!list.supports(.compareAndWrite))
    }

    @Test func allCommandsTruncatedAndBroken() {
        TruncationCheck.expectPrefixes(of: Self.allCommands) { try SupportedOperationCodes(parsing: $0) }
        // A descriptor cut inside its eight bytes.
        #expect(throws: SCSIParseError.self) {
            try SupportedOperationCodes(parsing: [0, 0, 0, 4, 0x28, 0, 0, 0])
        }
        // CTDP set without room for the timeouts descriptor.
        #expect(throws: SCSIParseError.self) {
            try SupportedOperationCodes(parsing: [0, 0, 0, 8, 0x28, 0, 0, 0, 0, 0x02, 0, 0x0A])
        }
        // A timeouts descriptor whose DESCRIPTOR LENGTH is not 10.
        var badTimeouts = Self.allCommands
        badTimeouts[41] = 0x08
        #expect(throws: SCSIParseError.self) { try SupportedOperationCodes(parsing: badTimeouts) }
        TruncationCheck.expectNoTrapOnGarbage { try SupportedOperationCodes(parsing: [0, 0, 0] + $0) }
    }

    /// COMPARE AND WRITE, supported, with its 16-byte usage map and timeouts.
    static let compareAndWrite: [UInt8] = [0x00, 0x83, 0x00, 0x10]
        + [0x89, 0xF8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0x3F, 0x04]
        + [0x00, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x0A]

    @Test func oneCommand() throws {
        let support = try OperationCodeSupport(parsing: Self.compareAndWrite)
        #expect(support.support == .supported)
        #expect(support.support.isSupported)
        #expect(support.cdbSize == 16)
        #expect(support.cdbUsageMap.first == 0x89)
        #expect(support.cdbUsageMap[13] == 0xFF)
        #expect(support.timeouts?.recommendedSeconds == 10)
        TruncationCheck.expectPrefixes(of: Self.compareAndWrite) { try OperationCodeSupport(parsing: $0) }
        TruncationCheck.expectNoTrapOnGarbage { try OperationCodeSupport(parsing: $0) }
    }

    @Test func oneCommandNotSupported() throws {
        let support = try OperationCodeSupport(parsing: [0x00, 0x01, 0x00, 0x00])
        #expect(support.support == .notSupported)
        #expect(!support.support.isSupported)
        #expect(support.cdbUsageMap.isEmpty)
        #expect(support.timeouts == nil)
        #expect(OperationCodeSupport.Support(rawValue: 0b101).isSupported)
        #expect(OperationCodeSupport.Support(rawValue: 0b010).description == "support 0b10")
    }
}
