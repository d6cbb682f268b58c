// The command table against what the unit reports and refuses: REPORT SUPPORTED
// OPERATION CODES, the CDB usage maps, unknown opcodes, and docs/VSCSI.md.

import Foundation
import NIOCore
import SCSI
import Testing
@testable import VSCSI

@Suite struct CommandTableTests {
    @Test func reportAllListsExactlyTheTable() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let response = await fixture.run(CDB.reportSupportedOperationCodes(includeTimeouts: true))
        #expect(response.status == .good)
        let reported = try SupportedOperationCodes(parsing: response.bytes)
        let expected = CommandTable.all.map { ($0.operationCode.rawValue, $0.serviceAction.map(UInt16.init), UInt16($0.cdbLength)) }
        #expect(reported.commands.count == expected.count)
        for (command, row) in zip(reported.commands, expected) {
            #expect(command.operationCode == row.0)
            #expect(command.serviceAction == row.1)
            #expect(command.cdbLength == row.2)
            #expect(command.timeouts != nil)
        }
    }

    @Test func unmapIsOfferedOnlyByThinUnits() async throws {
        let thick = try UnitFixture(options: LogicalUnitOptions(thinProvisioned: false))
        await thick.clearUnitAttentions()
        let all = try SupportedOperationCodes(parsing: await thick.run(CDB.reportSupportedOperationCodes()).bytes)
        #expect(!all.supports(.unmap))
        #expect(all.supports(.writeSame16))
        let refused = await thick.run(CDB.unmap(parameterListLength: 24))
        #expect(refused.asc == .invalidCommandOperationCode)
    }

    @Test func oneCommandReportsTheUsageMapTheUnitEnforces() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        for command in CommandTable.all {
            let cdb = CDB.reportSupportedOperationCode(command.operationCode.rawValue, serviceAction: command.serviceAction.map(UInt16.init))
            let response = await fixture.run(cdb)
            #expect(response.status == .good, "\(command.name)")
            let support = try OperationCodeSupport(parsing: response.bytes)
            #expect(support.support == .supported, "\(command.name)")
            #expect(support.cdbUsageMap == command.usageMap, "\(command.name)")
        }
    }

    @Test func oneCommandWithTheWrongReportingOptionIsRefused() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        // READ CAPACITY(16) has a service action: asking by opcode alone is an error.
        let byOpcode = await fixture.run(CDB.reportSupportedOperationCode(0x9E))
        #expect(byOpcode.asc == .invalidFieldInCDB)
        #expect(byOpcode.fieldPointer == .fieldPointer(inCDB: true, byte: 2, bit: 2))
        // A command that is not implemented: SUPPORT 001b.
        let absent = try OperationCodeSupport(parsing: await fixture.run(CDB.reportSupportedOperationCode(0x04)).bytes)
        #expect(absent.support == .notSupported)
    }

    /// Every command, every byte: a bit its usage map leaves out is INVALID FIELD IN
    /// CDB pointing at exactly that byte and bit.
    @Test func everyStrayCDBBitIsRefusedWithItsFieldPointer() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        var checked = 0
        for command in CommandTable.all {
            for byte in 1..<command.cdbLength {
                let free = ~command.usageMap[byte]
                guard free != 0 else { continue }
                let bit = UInt8(7 - free.leadingZeroBitCount)
                var cdb = command.usageMap.map { _ in UInt8(0) }
                cdb[0] = command.operationCode.rawValue
                if let action = command.serviceAction { cdb[1] = action }
                cdb[byte] |= 1 << bit
                let response = await fixture.run(cdb)
                #expect(response.status == .checkCondition, "\(command.name) byte \(byte)")
                #expect(response.senseKey == .illegalRequest, "\(command.name) byte \(byte)")
                #expect(response.asc == .invalidFieldInCDB, "\(command.name) byte \(byte)")
                #expect(response.fieldPointer == .fieldPointer(inCDB: true, byte: UInt16(byte), bit: bit), "\(command.name) byte \(byte)")
                checked += 1
            }
        }
        #expect(checked > 100)
    }

    @Test(arguments: [UInt8(0x04), 0x07, 0x1C, 0x3B, 0x4D, 0xC0, 0xFF])
    func unknownOperationCodesAreRefused(code: UInt8) async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        let response = await fixture.run([code] + [UInt8](repeating: 0, count: 15))
        #expect(response.status == .checkCondition)
        #expect(response.asc == .invalidCommandOperationCode)
    }

    @Test func unknownServiceActionsPointAtTheServiceActionField() async throws {
        let fixture = try UnitFixture()
        await fixture.clearUnitAttentions()
        for cdb in [[UInt8(0x9E), 0x11], [0xA3, 0x0A], [0x83, 0x01], [0x84, 0x07]] {
            let response = await fixture.run(cdb + [UInt8](repeating: 0, count: 14))
            #expect(response.asc == .invalidFieldInCDB)
            #expect(response.fieldPointer == .fieldPointer(inCDB: true, byte: 1, bit: 4))
        }
        let empty = await fixture.run([])
        #expect(empty.asc == .invalidCommandOperationCode)
        let short = await fixture.run([0x28, 0, 0])
        #expect(short.asc == .invalidFieldInCDB)
    }

    @Test func theDocumentCarriesTheTable() throws {
        if ProcessInfo.processInfo.environment["VSCSI_UPDATE_DOCS"] == "1" {
            try CommandTableDocument.rewriteDocument()
        }
        let documented = try CommandTableDocument.documentedTable()
        #expect(documented == CommandTableDocument.markdown, "run the tests with VSCSI_UPDATE_DOCS=1 to regenerate docs/VSCSI.md")
    }
}
