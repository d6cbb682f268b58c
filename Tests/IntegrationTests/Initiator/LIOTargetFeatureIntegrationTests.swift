// What LIO has that tgt and istgt lack, seen through the native initiator: ALUA target port
// groups and their changes, persistent reservations across sessions, and a guest reboot
// under load.

import BlockDevice
import Foundation
import ISCSI
import ISCSIAddress
import NIOConcurrencyHelpers
import NIOCore
import SCSI
import Testing
import TestSupport

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(10)))
struct LIOTargetFeatureIntegrationTests {
    private static func connect(
        _ portal: Portal,
        _ iqn: String,
        initiator: String = ISCSISessionConfiguration.defaultInitiatorName,
        recovery: TimeAmount = .seconds(120)
    ) async throws -> ISCSILUN {
        var configuration = ISCSISessionConfiguration(
            portal: TargetPortal(host: portal.host, port: portal.port),
            targetName: iqn,
            initiatorName: initiator,
            loginTimeout: .seconds(20),
            recoveryTimeout: recovery
        )
        configuration.connectTimeout = .seconds(20)
        return try await ISCSILUN.connect(try ISCSITargetURL(parsing: "iscsi://\(portal)/\(iqn)/0"), configuration: configuration)
    }

    /// The `alua` LUN is exported through TPG 1 (LIO's default group, id 0, active/optimized)
    /// and TPG 2 (group 1, standby). The initiator reads both groups and each path's own
    /// group; after the test moves group 0 to active/non-optimized in configfs, the next command
    /// meets ASYMMETRIC ACCESS STATE CHANGED and the report shows the new state.
    /// `vdiskctl target inquiry` shows both groups and marks the path it asked through.
    @Test func targetPortGroupsAndAStateChange() async throws {
        try await LIOSuiteGuest.with { lio in
            let iqn = LIOSuiteGuest.iqn("alua")
            let lun = try await Self.connect(lio.portal, iqn)
            let standard = try StandardInquiryData(parsing: Array(try await lun.passthrough(CDB.inquiry(allocationLength: 255), name: "INQUIRY", dataInLength: 255).readableBytesView))
            #expect(standard.targetPortGroupSupport == 3, "LIO reports implicit and explicit ALUA")

            let groups = try await lun.reportTargetPortGroups()
            let active = try #require(groups.first { $0.id == 0 }, "\(groups)")
            let standby = try #require(groups.first { $0.id == UInt16(LIOTargetSpec.standbyGroupID) }, "\(groups)")
            #expect(groups.count == 2, "\(groups)")
            #expect(active.state == .activeOptimized)
            #expect(standby.state == .standby)
            #expect(active.relativeTargetPorts.count == 1 && standby.relativeTargetPorts.count == 1, "\(groups)")
            #expect(active.relativeTargetPorts != standby.relativeTargetPorts)
            #expect(active.supportedStates.isSuperset(of: [.activeOptimized, .activeNonOptimized, .standby, .unavailable]), "\(active.supportedStates)")

            // Each path names its own group in VPD 0x83.
            #expect(try await Self.portGroupDesignator(lio.portal, iqn) == 0)
            #expect(try await Self.portGroupDesignator(lio.standbyPortal, iqn) == UInt16(LIOTargetSpec.standbyGroupID))

            // vdiskctl target inquiry through the standby path: both groups, that path's marked.
            let vdiskctl = try BuiltExecutable.path("vdiskctl", overriddenBy: "VDISKCTL")
            let shown = try await ExternalCommand.run(executable: vdiskctl, ["target", "inquiry", lio.standbyPortal.libiscsiURL(target: iqn, lun: 0)], timeout: .seconds(60)).check()
            #expect(shown.stdout.contains("ALUA: implicit and explicit"), "\(shown.stdout)")
            #expect(shown.stdout.contains("target port group 0: active/optimized, ports \(active.relativeTargetPorts[0])\n"), "\(shown.stdout)")
            #expect(shown.stdout.contains("target port group 1: standby, ports \(standby.relativeTargetPorts[0]) (this path)"), "\(shown.stdout)")

            let attentions = NIOLockedValueBox<[SenseData]>([])
            let watcher = Task {
                for await event in lun.events {
                    if case .unitAttention(let sense) = event { attentions.withLockedValue { $0.append(sense) } }
                }
            }
            try await lio.setPortGroupState(.activeNonOptimized, group: "default_tg_pt_gp", iqn: iqn, lun: 0)
            do {
                _ = try await lun.read(at: 0, blockCount: 8)
                let changed = try await lun.reportTargetPortGroups()
                #expect(changed.first { $0.id == 0 }?.state == .activeNonOptimized, "\(changed)")
                #expect(changed.first { $0.id == 0 }?.statusCode == 2, "altered by an implicit transition: \(changed)")
                #expect(changed.first { $0.id == UInt16(LIOTargetSpec.standbyGroupID) }?.state == .standby)
                let seen = await Self.eventually { attentions.withLockedValue { $0 } .contains { $0.additionalSenseCode == .asymmetricAccessStateChanged } }
                #expect(seen, "no ASYMMETRIC ACCESS STATE CHANGED among \(attentions.withLockedValue { $0 })")
            } catch {
                try? await lio.setPortGroupState(.activeOptimized, group: "default_tg_pt_gp", iqn: iqn, lun: 0)
                throw error
            }
            try await lio.setPortGroupState(.activeOptimized, group: "default_tg_pt_gp", iqn: iqn, lun: 0)
            try await lun.close()
            watcher.cancel()
        }
    }

    /// The target port group designator of VPD 0x83 seen through `portal`, on a bare session
    /// (a standby path serves INQUIRY but no media access).
    private static func portGroupDesignator(_ portal: Portal, _ iqn: String) async throws -> UInt16? {
        let session = try await ISCSISession.connect(ISCSISessionConfiguration(
            portal: TargetPortal(host: portal.host, port: portal.port),
            targetName: iqn,
            loginTimeout: .seconds(20)
        ))
        defer { Task { try? await session.logout() } }
        for _ in 0..<4 {
            let result = try await session.execute(SCSITaskRequest(lun: 0, cdb: CDB.inquiry(page: .deviceIdentification), expectedDataInLength: 255, operationName: "INQUIRY"))
            if result.isGood {
                let page = try DeviceIdentificationPage(parsing: Array(result.data.readableBytesView))
                return page.designators.lazy.compactMap(\.targetPortGroup).first
            }
        }
        throw ISCSIError(.targetError, scope: .session, "INQUIRY VPD 0x83 through \(portal) kept failing")
    }

    /// Runs one step of a scenario; a failure names the step.
    private static func step(_ name: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            throw SharedStepError(step: name, underlying: "\(error)")
        }
    }

    private static func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<50 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }

    /// LIO pings a connection idle for 15 s with a NOP-In that wants an answer and drops the
    /// connection when none comes within 30 s. With our own keepalive off, only answering
    /// LIO's pings keeps a session idle for 50 s usable without a new login.
    @Test func anIdleSessionAnswersLIOsNOPInsAndStaysUp() async throws {
        try await LIOSuiteGuest.with { lio in
            let session = try await ISCSISession.connect(ISCSISessionConfiguration(
                portal: TargetPortal(host: lio.portal.host, port: lio.portal.port),
                targetName: LIOSuiteGuest.iqn("plain"),
                loginTimeout: .seconds(20),
                keepaliveInterval: nil
            ))
            try await Task.sleep(for: .seconds(50))
            var status: UInt8 = 0xFF
            for _ in 0..<3 where status != 0 {
                status = try await session.execute(SCSITaskRequest(lun: 0, cdb: CDB.testUnitReady(), operationName: "TEST UNIT READY")).status
            }
            #expect(status == 0, "TEST UNIT READY after 50 s idle ended with status \(status)")
            try await session.logout()
        }
    }

    /// Two sessions (two I_T nexuses) on the `pr` LUN: both register, A reserves write
    /// exclusive registrants only (the type the datastore uses), B as a registrant may write,
    /// an unregistered third session conflicts, B preempts A's key and takes the reservation,
    /// and A, no longer registered, conflicts. Each session has its own initiator name: LIO
    /// tells registrants from others per initiator name (INITIATOR.md, target quirks).
    @Test func persistentReservationsAcrossTwoSessions() async throws {
        try await LIOSuiteGuest.with { lio in
            let iqn = LIOSuiteGuest.iqn("pr")
            // Three hosts, as the datastore has them: each its own initiator name. (Sessions
            // sharing one name are not independent registrants on LIO: a registrant's PREEMPT
            // of an EXCLUSIVE ACCESS reservation got RESERVATION CONFLICT that way.)
            let a = try await Self.connect(lio.portal, iqn, initiator: "iqn.2026-12.org.vdiskd.test:pr-a")
            let b = try await Self.connect(lio.portal, iqn, initiator: "iqn.2026-12.org.vdiskd.test:pr-b")
            let outsider = try await Self.connect(lio.portal, iqn, initiator: "iqn.2026-12.org.vdiskd.test:pr-outsider")
            let keyA: UInt64 = 0xA11C_E000_0000_0001
            let keyB: UInt64 = 0xB0B0_0000_0000_0002
            // A leftover of an earlier run on this guest would change the answers: clear first.
            try await Self.step("A registers to clear") { try await a.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: keyA)) }
            try await Self.step("A clears") { try await a.persistentReserveOut(.clear(key: keyA)) }

            try await Self.step("A registers") { try await a.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: keyA)) }
            try await Self.step("B registers") { try await b.persistentReserveOut(.registerAndIgnoreExistingKey(newKey: keyB)) }
            #expect(Set(try await a.readReservationKeys().keys) == [keyA, keyB])

            try await Self.step("A reserves") { try await a.persistentReserveOut(.reserve(key: keyA, type: .writeExclusiveRegistrantsOnly)) }
            #expect(try await b.readReservation().holder?.key == keyA)
            let block = TestPattern.bytes(seed: 41, count: 512)
            try await Self.step("the holder writes") { try await a.write(block, at: 10) }
            try await Self.step("a registrant writes") { try await b.write(block, at: 11) }
            let conflict = await #expect(throws: BlockDeviceError.self) { try await outsider.write(block, at: 12) }
            #expect(conflict?.code == .reservationConflict, "\(String(describing: conflict))")

            try await Self.step("B preempts A") { try await b.persistentReserveOut(.preempt(key: keyB, victimKey: keyA, type: .writeExclusiveRegistrantsOnly, abort: false)) }
            #expect(try await b.readReservation().holder?.key == keyB)
            #expect(try await b.readReservationKeys().keys == [keyB])
            try await b.write(block, at: 13)
            let preempted = await #expect(throws: BlockDeviceError.self) { try await a.write(block, at: 14) }
            #expect(preempted?.code == .reservationConflict)

            try await Self.step("B clears") { try await b.persistentReserveOut(.clear(key: keyB)) }
            #expect(try await a.readReservation().holder == nil)
            for lun in [a, b, outsider] { try await lun.close() }
        }
    }
}
}

/// A failed step of a multi-step scenario, with the step's name.
struct SharedStepError: Error, CustomStringConvertible {
    let step: String
    let underlying: String
    var description: String { "\(step): \(underlying)" }
}
