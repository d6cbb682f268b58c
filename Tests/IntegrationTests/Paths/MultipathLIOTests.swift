// ALUA on LIO through the Paths layer: one path per target portal group, the optimized group
// swapped under a verified load; I/O follows the optimized group with no client error.

import BlockDevice
import ISCSI
import ISCSIAddress
import NIOConcurrencyHelpers
import Paths
import Testing
import TestSupport

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(10)))
struct MultipathLIOTests {
    static func path(_ name: String, _ portal: Portal, _ iqn: String) throws -> PathConfiguration {
        try NativePath.configuration(name, try ISCSITargetURL(parsing: "iscsi://\(portal.host):\(portal.port)/\(iqn)/0"), keepalive: .seconds(2), loginTimeout: .seconds(20))
    }

    @Test func swappingTheOptimizedGroupMovesIOWithNoClientError() async throws {
        try await LIOSuiteGuest.with { lio in
            let iqn = LIOSuiteGuest.iqn("alua-paths")
            var options = MultipathOptions()
            options.policy = .mostRecentlyUsed
            options.probeInterval = .seconds(1)
            let device = try await MultipathDevice.open(
                name: "alua", paths: [try Self.path("tpg1", lio.portal, iqn), try Self.path("tpg2", lio.standbyPortal, iqn)], options: options
            )
            let restore = { @Sendable in
                try? await lio.setPortGroupState(.activeOptimized, group: "default_tg_pt_gp", iqn: iqn, lun: 0)
                try? await lio.setPortGroupState(.standby, group: LIOTargetSpec.standbyGroup, iqn: iqn, lun: 0)
            }
            do {
                let before = device.snapshot.paths
                // The standby path cannot even be opened (its open probe meets TARGET PORT IN
                // STANDBY STATE): standby, not dead.
                #expect(before.map(\.state) == [.active, .standby], "\(before.map(\.reason))")
                #expect(before[0].portGroup == 0 && before[0].accessState == .activeOptimized, "\(before.map(\.reason))")

                let stop = NIOLockedValueBox(false)
                let load = Task { await MultipathLoad.run(device, workers: 8, limit: 3000, shouldStop: { stop.withLockedValue { $0 } }) }
                try await Task.sleep(for: .seconds(1))
                let onFirst = device.snapshot.paths.map { $0.counters.reads + $0.counters.writes }
                #expect(onFirst[0] > 0 && onFirst[1] == 0, "standby takes no I/O: \(onFirst)")
                // Swap: group 1 becomes optimized, then group 0 goes standby.
                try await lio.setPortGroupState(.activeOptimized, group: LIOTargetSpec.standbyGroup, iqn: iqn, lun: 0)
                try await lio.setPortGroupState(.standby, group: "default_tg_pt_gp", iqn: iqn, lun: 0)
                try await Task.sleep(for: .seconds(3))
                let atSwap = device.snapshot.paths.map { $0.counters.reads + $0.counters.writes }
                try await Task.sleep(for: .seconds(2))
                stop.withLockedValue { $0 = true }
                let report = await load.value
                let after = device.snapshot.paths
                #expect(report.errors.isEmpty && report.miscompares.isEmpty, "\(report)")
                #expect(after.map(\.state) == [.standby, .active], "\(after.map(\.reason))")
                #expect(after.map(\.portGroup) == [0, UInt16(LIOTargetSpec.standbyGroupID)])
                let final = after.map { $0.counters.reads + $0.counters.writes }
                #expect(final[1] > atSwap[1] && final[0] == atSwap[0], "I/O moved to tpg2 only: \(atSwap) → \(final)")
            } catch {
                await restore()
                try? await device.close()
                throw error
            }
            await restore()
            try await device.close()
        }
    }
}
}
