// REPORT TARGET PORT GROUPS: the CDB, and its answer in both header formats, as LIO sends it
// for a LUN exported through two port groups.

import SCSI
import Testing

@Suite struct TargetPortGroupTests {
    /// Length-only format: group 0 active/optimized (preferred) with relative port 1, group 1
    /// standby with relative port 2; both support T, O, U, S, AN and AO (0xCF), group 1 was
    /// altered implicitly (status 2).
    static let twoGroups: [UInt8] = [
        0x00, 0x00, 0x00, 0x18,
        0x80, 0xCF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
        0x02, 0xCF, 0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    ]

    @Test func cdb() {
        let cdb = CDB.reportTargetPortGroups(allocationLength: 0x1234)
        #expect(cdb.count == 12)
        #expect(cdb[0] == 0xA3 && cdb[1] == 0x0A)
        #expect(Array(cdb[6..<10]) == [0x00, 0x00, 0x12, 0x34])
    }

    @Test func lengthOnlyFormat() throws {
        let groups = try TargetPortGroup.parseList(Self.twoGroups)
        #expect(groups.count == 2)
        #expect(groups[0] == TargetPortGroup(
            id: 0,
            state: .activeOptimized,
            preferred: true,
            supportedStates: [.transitioning, .offline, .unavailable, .standby, .activeNonOptimized, .activeOptimized],
            statusCode: 0,
            relativeTargetPorts: [1]
        ))
        #expect(groups[1].id == 1 && groups[1].state == .standby && !groups[1].preferred)
        #expect(groups[1].statusCode == 2 && groups[1].relativeTargetPorts == [2])
        #expect(!groups[1].state.servesIO && groups[0].state.servesIO)
        TruncationCheck.expectPrefixes(of: Self.twoGroups) { try TargetPortGroup.parseList($0) }
        TruncationCheck.expectNoTrapOnGarbage { try TargetPortGroup.parseList([0, 0, 0, 0x40] + $0) }
    }

    @Test func extendedFormatSkipsItsLongerHeader() throws {
        var extended = Self.twoGroups
        extended.replaceSubrange(0..<4, with: [0x00, 0x00, 0x00, 0x1C, 0x10, 0x05, 0x00, 0x00])
        let groups = try TargetPortGroup.parseList(extended)
        #expect(groups.map(\.id) == [0, 1])
        #expect(groups.map(\.state) == [.activeOptimized, .standby])
    }

    @Test func aDescriptorCountingMorePortsThanArrivedIsTruncated() {
        var short = Self.twoGroups
        short[0x0B] = 5
        #expect(throws: SCSIParseError.self) { try TargetPortGroup.parseList(short) }
        #expect(AsymmetricAccessState(rawValue: 0x1F) == .transitioning)
        #expect(AsymmetricAccessState.transitioning.description == "transitioning")
    }
}
