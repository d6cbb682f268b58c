// SendTargets answers (RFC 7143 §13.3, Appendix C) as tgt and istgt send them, and
// garbage; TargetAddress values (§13.8).

import NIOCore
import Testing

@testable import ISCSI

@Suite struct SendTargetsParserTests {
    private func parse(_ buffer: ByteBuffer) throws -> [DiscoveredTarget] {
        var buffer = buffer
        return try SendTargetsParser.parse(buffer.readTextKeyValues(limits: .exchange))
    }

    @Test func tgtLikeAnswerWithSeveralTargetsAndPortals() throws {
        let answer = text(
            "TargetName=iqn.2026-11.example:alpha",
            "TargetAddress=192.0.2.10:3260,1",
            "TargetAddress=[2001:db8::10]:3260,1",
            "TargetName=iqn.2026-11.example:beta",
            "TargetAddress=san.example:3261,2"
        )
        #expect(
            try parse(answer) == [
                DiscoveredTarget(
                    name: "iqn.2026-11.example:alpha",
                    portals: [
                        TargetPortal(host: "192.0.2.10", port: 3260, portalGroupTag: 1),
                        TargetPortal(host: "2001:db8::10", port: 3260, portalGroupTag: 1),
                    ]
                ),
                DiscoveredTarget(
                    name: "iqn.2026-11.example:beta",
                    portals: [TargetPortal(host: "san.example", port: 3261, portalGroupTag: 2)]
                ),
            ]
        )
    }

    /// One target, one portal, as istgt 0.4 answers (see TextExchangeStateMachineTests
    /// for why libiscsi spins on it: the text is fine, the sequence numbers are not).
    @Test func istgtLikeAnswer() throws {
        let answer = text("TargetName=iqn.2026-11.example.istgt:disk7", "TargetAddress=127.0.0.1:3290,1")
        #expect(
            try parse(answer) == [
                DiscoveredTarget(
                    name: "iqn.2026-11.example.istgt:disk7",
                    portals: [TargetPortal(host: "127.0.0.1", port: 3290, portalGroupTag: 1)]
                )
            ]
        )
    }

    @Test func targetWithoutAddressUsesTheDiscoveryPortal() throws {
        let targets = try parse(text("TargetName=iqn.a"))
        #expect(targets == [DiscoveredTarget(name: "iqn.a")])
        let discovery = TargetPortal(host: "10.0.0.5")
        #expect(targets[0].portals(defaultingTo: discovery) == [discovery])
    }

    @Test func garbageIsSkippedWithoutLosingGoodTargets() throws {
        let answer = text(
            "TargetAddress=10.0.0.9:3260,1",  // before any TargetName: belongs to nobody
            "TargetName=iqn.a",
            "TargetAddress=not a host",
            "TargetAddress=fe80::1:3260,1",  // unbracketed IPv6
            "TargetAddress=10.0.0.1:99999",
            "TargetAddress=10.0.0.1:3260,70000",
            "TargetAddress=10.0.0.1:3260,1",
            "TargetAlias=Disk A",
            "X-vendor=1",
            "TargetName=",
            "TargetAddress=10.0.0.2",  // follows an empty name: dropped with it
            "TargetName=iqn.a",
            "TargetAddress=10.0.0.1:3260,1",
            "TargetAddress=10.0.0.3"
        )
        #expect(
            try parse(answer) == [
                DiscoveredTarget(
                    name: "iqn.a",
                    portals: [TargetPortal(host: "10.0.0.1", port: 3260, portalGroupTag: 1), TargetPortal(host: "10.0.0.3")]
                )
            ]
        )
    }

    @Test(arguments: ["Reject", "Irrelevant", "NotUnderstood"])
    func refusedDiscoveryIsAnError(value: String) {
        let error = #expect(throws: ISCSIError.self) { try parse(text("SendTargets=\(value)")) }
        #expect(error?.code == .rejected)
        #expect(error?.message.contains("SendTargets=\(value)") == true)
    }

    @Test func emptyAnswerHasNoTargets() throws {
        #expect(try parse(ByteBuffer()) == [])
    }

    // MARK: - TargetAddress

    @Test(arguments: [
        ("10.0.0.1", TargetPortal(host: "10.0.0.1", port: 3260)),
        ("10.0.0.1:3261", TargetPortal(host: "10.0.0.1", port: 3261)),
        ("10.0.0.1,7", TargetPortal(host: "10.0.0.1", port: 3260, portalGroupTag: 7)),
        ("[::1]", TargetPortal(host: "::1")),
        ("[fe80::1%eth0]:3262,0", TargetPortal(host: "fe80::1%eth0", port: 3262, portalGroupTag: 0)),
        ("[::ffff:192.0.2.1]:3260,1", TargetPortal(host: "::ffff:192.0.2.1", port: 3260, portalGroupTag: 1)),
        ("storage-1.example.com:3260,65535", TargetPortal(host: "storage-1.example.com", port: 3260, portalGroupTag: 65535)),
    ])
    func validAddresses(text: String, portal: TargetPortal) throws {
        #expect(try TargetPortal(parsing: text) == portal)
    }

    @Test(arguments: [
        "", ":3260", "host:", "host:0", "host:65536", "host:32a", "host,", "host,-1", "[::1", "[]:3260", "[::1]3260",
        "[::1]:x", "[zz::1]", "fe80::1", "a b", "host:3260:1",
    ])
    func malformedAddresses(text: String) {
        let error = #expect(throws: ISCSIError.self) { try TargetPortal(parsing: text) }
        #expect(error?.message.hasPrefix("TargetAddress=\(text) is malformed") == true)
    }

    @Test func descriptionBracketsIPv6() {
        #expect(TargetPortal(host: "::1", port: 3260, portalGroupTag: 1).description == "[::1]:3260,1")
        #expect(TargetPortal(host: "10.0.0.1").description == "10.0.0.1:3260")
    }
}
