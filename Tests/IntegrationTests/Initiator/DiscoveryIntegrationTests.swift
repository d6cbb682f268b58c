// SendTargets discovery against tgt and istgt.

import ISCSI
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2)))
struct DiscoveryIntegrationTests {
    private func discover(_ daemon: some ISCSITargetDaemon) async throws -> [DiscoveredTarget] {
        try await ISCSIDiscovery.sendTargets(ISCSISessionConfiguration(
            portal: TargetPortal(host: daemon.portal.host, port: daemon.portal.port),
            targetName: nil,
            loginTimeout: .seconds(10)
        ))
    }

    @Test func tgtListsEveryTargetWithItsPortal() async throws {
        let names = ["iqn.2026-11.org.vdiskd.test:disc-a", "iqn.2026-11.org.vdiskd.test:disc-b"]
        let configuration = TgtConfiguration(targets: names.map { TgtTargetSpec(iqn: $0, luns: [.null(1)]) })
        try await withTgt(configuration) { tgt in
            let found = try await discover(tgt)
            #expect(Set(found.map(\.name)) == Set(names))
            for target in found {
                #expect(target.portals.contains { $0.host == "127.0.0.1" && $0.port == tgt.portal.port })
            }
        }
    }

    @Test func istgtListsItsTargetWithoutSpinning() async throws {
        let iqn = "iqn.2026-11.org.vdiskd.test:disc-istgt"
        try await withIstgt(IstgtConfiguration(targets: [IstgtTargetSpec(iqn: iqn, luns: [.file(0, size: 8 << 20)])])) { istgt in
            let clock = ContinuousClock()
            let started = clock.now
            let found = try await discover(istgt)
            #expect(clock.now - started < .seconds(5))
            #expect(found.map(\.name) == [iqn])
            #expect(found.first?.portals.contains { $0.port == istgt.portal.port } == true)
            // A second discovery on the same target still works: the first logged out cleanly.
            #expect(try await discover(istgt).map(\.name) == [iqn])
        }
    }
}
