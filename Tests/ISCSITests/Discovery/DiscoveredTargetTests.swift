// Where to log in after discovery: the portal dialled comes first, because a target lists
// addresses as it sees them (LIO behind QEMU's port forwarding lists the guest's own).

import ISCSI
import Testing

@Suite struct DiscoveredTargetTests {
    @Test func theDialledPortalComesFirstWithTheListedTag() {
        let target = DiscoveredTarget(name: "iqn.2026-12.test:lio", portals: [TargetPortal(host: "10.0.2.15", port: 3260, portalGroupTag: 1)])
        let dialled = TargetPortal(host: "127.0.0.1", port: 23260)
        let portals = target.loginPortals(dialled: dialled)
        #expect(portals == [TargetPortal(host: "127.0.0.1", port: 23260, portalGroupTag: 1), TargetPortal(host: "10.0.2.15", port: 3260, portalGroupTag: 1)])
    }

    @Test func aListedDialledPortalIsNotRepeatedAndKeepsItsOwnTag() {
        let target = DiscoveredTarget(name: "iqn.2026-12.test:tgt", portals: [
            TargetPortal(host: "192.0.2.7", port: 3260, portalGroupTag: 2),
            TargetPortal(host: "192.0.2.8", port: 3261, portalGroupTag: 3),
        ])
        let portals = target.loginPortals(dialled: TargetPortal(host: "192.0.2.8", port: 3261))
        #expect(portals.map(\.host) == ["192.0.2.8", "192.0.2.7"])
        #expect(portals.first?.portalGroupTag == 3)
    }

    @Test func aTargetListedWithoutPortalsIsReachedWhereItWasFound() {
        let dialled = TargetPortal(host: "san.example", port: 3260)
        #expect(DiscoveredTarget(name: "iqn.2026-12.test:bare").loginPortals(dialled: dialled) == [dialled])
    }
}
