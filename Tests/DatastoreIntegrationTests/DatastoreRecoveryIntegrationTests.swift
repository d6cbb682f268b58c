// A datastore mounted by two hosts on tgt keeps working across connections killed under
// both: their LUNs log in again, heartbeats go on, nobody is fenced, locks stay held.

import BlockDevice
import Datastore
import Foundation
import ISCSI
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2)))
struct DatastoreRecoveryIntegrationTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:datastore-recovery"

    @Test func heartbeatsAndLocksSurviveKilledConnections() async throws {
        let spec = TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 256 << 20)])
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            let lun = try SharedLUN(daemon: tgt, iqn: Self.iqn, lun: 1)
            try await lun.format()
            let a = try await ClusterHost.mount(lun, name: "host-a")
            let b = try await ClusterHost.mount(lun, name: "host-b")
            _ = try await a.store.createDisk(name: "disk-a", size: 8 << 20)
            let disk = try await a.store.openDisk(name: "disk-a")
            let data = TestBytes.buffer(70_000, seed: 7)
            try await disk.write(data, offset: 1 << 20, fua: true)
            let counterBefore = try await Self.counter(of: "host-a", seenBy: b)

            // Both hosts' connections go; each LUN logs in again on its own.
            #expect(try await tgt.dropConnections(tid: 1) == 2)
            // Longer than the 4 s lease: a host whose heartbeat stopped would be dead by now.
            try await Task.sleep(for: .seconds(6))

            #expect(a.device.reconnections == 1)
            #expect(b.device.reconnections == 1)
            #expect(a.store.fenceReason == nil, "\(a.store.fenceReason ?? "")")
            #expect(b.store.fenceReason == nil, "\(b.store.fenceReason ?? "")")
            let seen = try #require(try await b.store.hosts().first { $0.hostName == "host-a" })
            #expect((seen.silentSeconds ?? .infinity) < 4, "host-b sees host-a silent for \(seen.silentSeconds ?? -1) s")
            #expect(seen.counter > counterBefore, "host-a renewed its heartbeat after the reconnection")
            // host-a's lock on its disk was not broken: host-b is still refused.
            let refused = try await #require(throws: DatastoreError.self) {
                try await b.store.openDisk(name: "disk-a", mode: .sharedReadOnly)
            }
            #expect(refused.code == .locked)
            #expect(try await disk.read(offset: 1 << 20, length: 70_000) == data)
            try await disk.write(data, offset: 2 << 20, fua: true)
            try await disk.close()
            try await a.leave()
            try await b.leave()
        }
    }

    /// The heartbeat counter of `host` as `observer` reads it from the LUN.
    static func counter(of host: String, seenBy observer: ClusterHost) async throws -> UInt64 {
        try #require(try await observer.store.hosts().first { $0.hostName == host }).counter
    }
}
