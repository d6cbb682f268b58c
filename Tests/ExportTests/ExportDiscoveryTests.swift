// Discovery as an exposed service: while a target uses CHAP, discovery sessions need it
// too, so 2000 logins without credentials are all refused; with discovery left open they
// stop at their own cap, and idle ones are closed, while a CHAP login to the target still
// gets in and moves verified data. SendTargets lists only the targets the authenticated
// initiator may log in to.

import BlockDevice
import Export
import Foundation
import ISCSI
import ISCSIAddress
import Logging
import NIOCore
import NIOPosix
import TestSupport
import Testing
import VSCSI

@Suite(.serialized, .timeLimit(.minutes(4))) struct ExportDiscoveryTests {
    static let alice = CHAPCredentials(user: "alice", secret: TestSecrets.alice)
    static let attempts = 2000

    /// A raw discovery login with AuthMethod=None; the status class and detail of its answer.
    static func discoveryLogin(_ client: RawISCSIClient, initiator: String, isid: UInt64) throws -> (UInt8, UInt8) {
        try client.send(.loginRequest(LoginRequest(
            transit: true, currentStage: .securityNegotiation, nextStage: .fullFeaturePhase, isid: isid, tsih: 0,
            initiatorTaskTag: 1, connectionID: 0, cmdSN: 1, expStatSN: 0,
            data: ByteBuffer(textKeyValues: [
                TextKeyValue("InitiatorName", initiator), TextKeyValue("SessionType", "Discovery"), TextKeyValue("AuthMethod", "None"),
                TextKeyValue("HeaderDigest", "None"), TextKeyValue("DataDigest", "None"),
            ])
        )))
        guard case .loginResponse(let response) = try client.receive() else { throw RawISCSIClient.Failure(description: "no Login Response") }
        return (response.statusClass, response.statusDetail)
    }

    /// A CHAP login to the harness's target with verified I/O.
    static func verifiedCHAPSession(_ harness: ExportHarness) async throws {
        let session = try await harness.session(authentication: .chap(Self.alice, mutual: nil, algorithms: [.sha256]))
        try await VerifiedIO.roundTrip(session, lba: 256, seed: 23, "CHAP session I/O")
        try await session.logout()
    }

    @Test func withCHAPOnATargetDiscoveryWithoutCredentialsIsRefusedEveryTime() async throws {
        try await ExportHarness.with(access: TargetAccessPolicy(chap: Self.alice)) { harness in
            let port = harness.portal.port
            // Bounded: 2000 attempts and 120 s.
            let statuses = try await OffPool.run { () throws -> [String: Int] in
                let clock = ContinuousClock()
                let start = clock.now
                var counts: [String: Int] = [:]
                for attempt in 0..<Self.attempts where clock.now - start < .seconds(120) {
                    let client = try RawISCSIClient(port: port)
                    let (statusClass, detail) = try Self.discoveryLogin(client, initiator: "iqn.2025-01.io.vdiskd:scanner\(attempt % 7)", isid: 0x80_0000_0000_00 | UInt64(attempt))
                    counts["\(statusClass)/\(detail)", default: 0] += 1
                }
                return counts
            }
            #expect(statuses == ["2/1": Self.attempts], "every discovery login without CHAP is an authentication failure: \(statuses)")
            #expect(harness.server.sessionCount == 0)
            // Refusals of a login that never tried a secret do not throttle the address.
            try await Self.verifiedCHAPSession(harness)
        }
    }

    @Test func openDiscoveryStopsAtItsCapAndIdleSessionsCloseWhileTheTargetStillAdmitsCHAP() async throws {
        // Bounded: 2000 attempts within 18 s, then at most 40 s of waiting for idle closes.
        // No NOP-In pings: the flood's sessions should hear nothing until they are closed.
        try await ExportHarness.with(access: TargetAccessPolicy(chap: Self.alice), pingInterval: nil, configure: { configuration in
            configuration.discovery = .open
            configuration.maximumDiscoverySessions = 8
            // Long enough for the whole flood to run inside it, so no slot frees up meanwhile.
            configuration.discoveryIdleTimeout = .seconds(20)
        }) { harness in
            let port = harness.portal.port
            // An open discovery session does not see the CHAP target.
            let listed = try await ISCSIDiscovery.sendTargets(ISCSISessionConfiguration(
                portal: TargetPortal(host: "127.0.0.1", port: port), targetName: nil, initiatorName: "iqn.2025-01.io.vdiskd:curious", loginTimeout: .seconds(10)
            ))
            #expect(listed.isEmpty, "an unauthenticated discovery session lists \(listed.map(\.name))")
            let clock = ContinuousClock()
            // Bounded: 2000 attempts and 120 s.
            let (open, counts) = try await OffPool.run { () throws -> ([RawISCSIClient], [String: Int]) in
                let start = clock.now
                var open: [RawISCSIClient] = []
                var counts: [String: Int] = [:]
                for attempt in 0..<Self.attempts where clock.now - start < .seconds(18) {
                    let client = try RawISCSIClient(port: port, timeoutSeconds: 40)
                    let (statusClass, detail) = try Self.discoveryLogin(client, initiator: "iqn.2025-01.io.vdiskd:flood", isid: 0x80_0000_0000_00 | UInt64(attempt))
                    counts["\(statusClass)/\(detail)", default: 0] += 1
                    if statusClass == 0 { open.append(client) }
                }
                return (open, counts)
            }
            #expect(open.count == 8, "discovery sessions admitted: \(counts)")
            #expect(counts["3/2"] == Self.attempts - 8, "the rest get 0x0302: \(counts)")
            // The normal sessions' slots are untouched: a CHAP login gets in and moves data.
            try await Self.verifiedCHAPSession(harness)
            // The flood's sessions send nothing and are closed at the idle timeout, which
            // frees their slots; a fresh one is closed the same way, timed from its login.
            let (closed, fresh, lifetime) = try await OffPool.run { () throws -> (Int, (UInt8, UInt8), Duration) in
                var closed = 0
                for client in open where try client.receive() == nil { closed += 1 }
                let client = try RawISCSIClient(port: port, timeoutSeconds: 40)
                let status = try Self.discoveryLogin(client, initiator: "iqn.2025-01.io.vdiskd:late", isid: 0x80_0000_1000_00)
                let loggedIn = clock.now
                _ = try client.receive()
                return (closed, status, clock.now - loggedIn)
            }
            #expect(closed == 8, "idle discovery sessions closed: \(closed) of 8")
            #expect(fresh == (0, 0), "a discovery slot is free again: \(fresh)")
            #expect(lifetime >= .seconds(19) && lifetime < .seconds(30), "an idle discovery session lived \(lifetime); the timeout is 20 s")
        }
    }

    @Test func sendTargetsListsOnlyTheTargetsTheAuthenticatedInitiatorMayUse() async throws {
        let directory = try ScratchDirectory(prefix: "export-discovery")
        defer { directory.remove() }
        let bob = CHAPCredentials(user: "bob", secret: TestSecrets.bob)
        let registry = LogicalUnitRegistry()
        var devices: [FileBlockDevice] = []
        var targets: [ExportTarget] = []
        let specs: [(String, TargetAccessPolicy)] = [
            ("iqn.2025-01.io.vdiskd:alice", TargetAccessPolicy(chap: Self.alice)),
            ("iqn.2025-01.io.vdiskd:bob", TargetAccessPolicy(chap: bob)),
            ("iqn.2025-01.io.vdiskd:public", TargetAccessPolicy()),
            ("iqn.2025-01.io.vdiskd:acl", TargetAccessPolicy(allowedInitiators: ["iqn.2025-01.io.vdiskd:someone-else"])),
        ]
        for (index, (name, policy)) in specs.enumerated() {
            let device = try FileBlockDevice(path: try directory.createSparseFile("disk\(index).img", size: 4 << 20))
            devices.append(device)
            let unit = LogicalUnit(device: device, identity: LogicalUnitIdentity(uuid: UUID(), name: "disk\(index)"), options: LogicalUnitOptions(), registry: registry)
            targets.append(ExportTarget(name: name, access: policy, units: [0: unit]))
        }
        let server = ExportServer(
            targets: targets,
            configuration: ExportConfiguration(portals: [ISCSIEndpoint(host: "127.0.0.1", port: 0)], drainTimeout: .seconds(2)),
            group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "export.discovery.test")
        )
        try await ExportServerRun.with(server, devices: devices) { port in
            func discover(_ authentication: LoginAuthentication) async throws -> [String] {
                try await ISCSIDiscovery.sendTargets(ISCSISessionConfiguration(
                    portal: TargetPortal(host: "127.0.0.1", port: port), targetName: nil,
                    initiatorName: "iqn.2025-01.io.vdiskd:lister", authentication: authentication, loginTimeout: .seconds(10)
                )).map(\.name).sorted()
            }
            let asAlice = try await discover(.chap(Self.alice, mutual: nil, algorithms: [.sha256]))
            let asBob = try await discover(.chap(bob, mutual: nil, algorithms: [.sha256]))
            #expect(asAlice == ["iqn.2025-01.io.vdiskd:alice", "iqn.2025-01.io.vdiskd:public"])
            #expect(asBob == ["iqn.2025-01.io.vdiskd:bob", "iqn.2025-01.io.vdiskd:public"])
            await #expect(throws: ISCSIError.self, "a target uses CHAP, so discovery needs it") { try await discover(.none) }
        }
    }
}
