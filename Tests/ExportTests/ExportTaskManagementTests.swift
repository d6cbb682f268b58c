// Task management and liveness over a real socket: ABORT TASK, ABORT TASK SET and LUN
// RESET of writes whose Data-Out the client withholds, a CmdSN gap, and 200 login/logout
// cycles leaving no growing state behind. A native session doing verified I/O beside the
// scripted one shows the rest of the target unaffected. The scripted client's blocking
// socket calls run off the concurrency pool, which the in-process target needs.

import Foundation
import ISCSI
import NIOCore
import SCSI
import TestSupport
import Testing
@testable import VSCSI

@Suite(.serialized, .timeLimit(.minutes(5))) struct ExportTaskManagementTests {
    static let block = 512

    /// WRITE(10) then READ(10) of `blocks` blocks at `lba` on a native session; true when the bytes came back.
    static func verifiedIO(_ session: ISCSISession, lba: UInt32, blocks: UInt16, seed: UInt64) async throws -> Bool {
        let data = TestPattern.bytes(seed: seed, count: Int(blocks) * block)
        let write = try await session.execute(SCSITaskRequest(lun: 0, cdb: ExportDatastoreEndToEndTests.cdb10(0x2A, lba: lba, blocks: blocks), dataOut: data))
        let read = try await session.execute(SCSITaskRequest(lun: 0, cdb: ExportDatastoreEndToEndTests.cdb10(0x28, lba: lba, blocks: blocks), expectedDataInLength: data.readableBytes))
        return write.isGood && read.isGood && read.data == data
    }

    /// Whether READ(10) on the scripted connection is GOOD with only zeros: no write landed there.
    static func isZero(_ initiator: ScriptedInitiator, lba: UInt32, blocks: UInt16) throws -> Bool {
        let result = try initiator.run(cdb: ExportDatastoreEndToEndTests.cdb10(0x28, lba: lba, blocks: blocks), read: true, length: Int(blocks) * block)
        return result.status == 0 && result.data == [UInt8](repeating: 0, count: Int(blocks) * block)
    }

    /// A harness with a native bystander session and a scripted connection called `name`,
    /// both past their power-on unit attention; both log out after `body`.
    static func withBystander(scripted name: String, _ body: (ExportHarness, ISCSISession, ScriptedInitiator) async throws -> Void) async throws {
        try await ExportHarness.with { harness in
            let bystander = try await harness.session(initiator: "iqn.2025-01.io.vdiskd:bystander")
            _ = try await verifiedIO(bystander, lba: 0, blocks: 1, seed: 0)
            #expect(try await verifiedIO(bystander, lba: 0, blocks: 1, seed: 0))
            let initiator = try await ScriptedInitiator.connect(port: harness.portal.port, initiator: "iqn.2025-01.io.vdiskd:\(name)")
            try await initiator.blocking { try $0.clearUnitAttentions() }
            try await body(harness, bystander, initiator)
            try await initiator.blocking { try $0.logout() }
            try await bystander.logout()
        }
    }

    /// Whether `condition` holds within 5 s (250 looks, 20 ms apart).
    static func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<250 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    static func hasResponse(for tag: UInt32, in pdus: [ISCSIPDU]) -> Bool {
        pdus.contains {
            switch $0 {
            case .scsiResponse(let response): response.initiatorTaskTag == tag
            case .dataIn(let dataIn): dataIn.initiatorTaskTag == tag
            default: false
            }
        }
    }

    static let complete = TaskManagementResponseCode.functionComplete.rawValue
    static let noSuchTask = TaskManagementResponseCode.taskDoesNotExist.rawValue

    @Test func abortTaskEndsAWriteWaitingForItsDataWithoutAResponseOrAWrite() async throws {
        try await Self.withBystander(scripted: "aborter") { _, bystander, initiator in
            let pending = try await initiator.blocking { try $0.withheldWrite(lba: 100, blocks: 8) }
            let abort = try await initiator.blocking { try $0.taskManagement(.abortTask, referencedTaskTag: pending.tag, refCmdSN: pending.cmdSN) }
            #expect(abort.response == Self.complete)
            #expect(!Self.hasResponse(for: pending.tag, in: abort.others))
            let (again, read) = try await initiator.blocking { initiator in
                // The withheld data arrives late anyway: the target drops it.
                try initiator.client.send(.dataOut(DataOut(
                    final: true, lun: 0, initiatorTaskTag: pending.tag, expStatSN: 0, dataSN: 0, bufferOffset: 0,
                    data: ByteBuffer(repeating: 0xEE, count: 8 * Self.block)
                )))
                // The task is gone: aborting it again finds nothing, and its blocks were never written.
                let again = try initiator.taskManagement(.abortTask, referencedTaskTag: pending.tag, refCmdSN: pending.cmdSN)
                let read = try initiator.run(cdb: ExportDatastoreEndToEndTests.cdb10(0x28, lba: 100, blocks: 8), read: true, length: 8 * Self.block)
                return (again, read)
            }
            #expect(again.response == Self.noSuchTask)
            #expect(read.status == 0 && read.data == [UInt8](repeating: 0, count: 8 * Self.block), "the aborted WRITE's blocks")
            #expect(!Self.hasResponse(for: pending.tag, in: again.others + read.others), "the aborted WRITE answered")
            #expect(try await Self.verifiedIO(bystander, lba: 100, blocks: 8, seed: 1))
        }
    }

    /// ABORT TASK of a WRITE already inside the device (held there at a gate): the TMF
    /// answers while the write is still stuck, the write never answers once it finishes,
    /// and another session's I/O goes on meanwhile. VSCSI cannot stop a command inside the
    /// device, so the write does land (docs/EXPORT.md, known gaps).
    @Test func abortTaskOfAWriteInsideTheDeviceAnswersAtOnceAndSuppressesItsResponse() async throws {
        let gate = DeviceGate()
        defer { gate.open() }
        try await ExportHarness.with(wrap: { GatedBlockDevice($0, gatedLBA: 2000, gate: gate) }) { harness in
            let bystander = try await harness.session(initiator: "iqn.2025-01.io.vdiskd:bystander")
            _ = try await Self.verifiedIO(bystander, lba: 0, blocks: 1, seed: 0)
            let initiator = try await ScriptedInitiator.connect(port: harness.portal.port, initiator: "iqn.2025-01.io.vdiskd:slow")
            try await initiator.blocking { try $0.clearUnitAttentions() }
            let data = TestPattern.bytes(seed: 0x51, count: 8 * Self.block)
            let pending = try await initiator.blocking { initiator in
                let pending = try initiator.withheldWrite(lba: 2000, blocks: 8)
                try initiator.client.send(.dataOut(DataOut(
                    final: true, lun: 0, initiatorTaskTag: pending.tag, targetTransferTag: pending.transferTag,
                    expStatSN: 0, dataSN: 0, bufferOffset: 0, data: data
                )))
                return pending
            }
            #expect(await Self.eventually { gate.entered == 1 }, "the WRITE never reached the device")
            let abort = try await initiator.blocking { try $0.taskManagement(.abortTask, referencedTaskTag: pending.tag, refCmdSN: pending.cmdSN) }
            #expect(abort.response == Self.complete)
            #expect(gate.finished == 0, "the TMF waited for the write")
            #expect(try await Self.verifiedIO(bystander, lba: 3000, blocks: 8, seed: 7), "the bystander stalled behind the stuck write")
            gate.open()
            #expect(await Self.eventually { gate.finished == 1 })
            let after = try await initiator.blocking { try $0.run(cdb: ExportDatastoreEndToEndTests.cdb10(0x28, lba: 2000, blocks: 8), read: true, length: 8 * Self.block) }
            #expect(after.status == 0 && after.data == Array(data.readableBytesView), "the write ran to its end in the device")
            #expect(!Self.hasResponse(for: pending.tag, in: abort.others + after.others), "the aborted WRITE answered")
            try await initiator.blocking { try $0.logout() }
            try await bystander.logout()
        }
    }

    @Test func abortTaskSetEndsEveryWaitingWriteOfTheConnectionAndNoOtherSessionsTask() async throws {
        try await Self.withBystander(scripted: "aborter") { _, bystander, initiator in
            let pending = try await initiator.blocking { [try $0.withheldWrite(lba: 200, blocks: 4), try $0.withheldWrite(lba: 300, blocks: 4)] }
            // The bystander's own write is in flight while the set is aborted.
            async let bystanderIO = Self.verifiedIO(bystander, lba: 400, blocks: 64, seed: 2)
            let abort = try await initiator.blocking { try $0.taskManagement(.abortTaskSet) }
            #expect(abort.response == Self.complete)
            #expect(try await bystanderIO, "the bystander's verified I/O failed")
            for task in pending {
                let lookup = try await initiator.blocking { try $0.taskManagement(.abortTask, referencedTaskTag: task.tag, refCmdSN: task.cmdSN) }
                #expect(lookup.response == Self.noSuchTask)
                #expect(!Self.hasResponse(for: task.tag, in: abort.others + lookup.others))
            }
            #expect(try await initiator.blocking { try Self.isZero($0, lba: 200, blocks: 4) && Self.isZero($0, lba: 300, blocks: 4) })
            #expect(try await Self.verifiedIO(bystander, lba: 500, blocks: 8, seed: 3))
        }
    }

    @Test func lunResetEndsTheWaitingWriteAndEveryNexusHearsOfIt() async throws {
        try await Self.withBystander(scripted: "resetter") { _, bystander, initiator in
            let pending = try await initiator.blocking { try $0.withheldWrite(lba: 600, blocks: 2) }
            let reset = try await initiator.blocking { try $0.taskManagement(.logicalUnitReset) }
            #expect(reset.response == Self.complete)
            #expect(!Self.hasResponse(for: pending.tag, in: reset.others))

            // Both nexuses hear BUS DEVICE RESET FUNCTION OCCURRED (29/03) once, then work.
            let told = try await initiator.blocking { try $0.run(cdb: [0, 0, 0, 0, 0, 0]) }
            #expect(told.status == SCSIStatus.checkCondition.rawValue)
            #expect(told.senseCode.map { [$0.key, $0.asc, $0.ascq] } == [0x06, 0x29, 0x03], "\(told.sense)")
            let heard = try await bystander.execute(SCSITaskRequest(lun: 0, cdb: [0, 0, 0, 0, 0, 0]))
            #expect(heard.status == SCSIStatus.checkCondition.rawValue && heard.senseData.count >= 14 && heard.senseData[12] == 0x29 && heard.senseData[13] == 0x03)
            #expect(try await initiator.blocking { try Self.isZero($0, lba: 600, blocks: 2) })
            #expect(try await Self.verifiedIO(bystander, lba: 700, blocks: 16, seed: 4))
        }
    }

    @Test func aCmdSNGapHoldsOnlyTheCommandsBehindItAndFillingItReleasesThem() async throws {
        try await Self.withBystander(scripted: "gapper") { _, bystander, initiator in
            // Skip one CmdSN: the command after the gap waits for it, while the connection
            // still answers immediate pings.
            let gap = initiator.cmdSN
            let (held, pingedOverGap) = try await initiator.blocking { (try $0.send(cdb: [0, 0, 0, 0, 0, 0], cmdSN: gap &+ 1), try $0.ping()) }
            #expect(pingedOverGap)
            // Everyone else goes on.
            #expect(try await Self.verifiedIO(bystander, lba: 800, blocks: 32, seed: 5))
            // A CmdSN far past MaxCmdSN is ignored, not queued.
            let (outside, pingedPastWindow) = try await initiator.blocking { (try $0.send(cdb: [0, 0, 0, 0, 0, 0], cmdSN: gap &+ 100_000), try $0.ping()) }
            #expect(pingedPastWindow)
            // Filling the gap releases the held command: both answer, and nothing for the one outside.
            let (filler, heldDone, after) = try await initiator.blocking { initiator in
                let filler = try initiator.client.completion(of: initiator.send(cdb: [0, 0, 0, 0, 0, 0], cmdSN: gap))
                initiator.cmdSN = gap &+ 2
                let heldDone = Self.hasResponse(for: held, in: filler.others) ? nil : try initiator.client.completion(of: held)
                return (filler, heldDone, try initiator.run(cdb: [0, 0, 0, 0, 0, 0]))
            }
            #expect(filler.status == 0)
            #expect(heldDone == nil || heldDone?.status == 0)
            #expect(after.status == 0)
            #expect(!Self.hasResponse(for: outside, in: filler.others + (heldDone?.others ?? []) + after.others))
        }
    }

    /// ABORT TASK of a command held behind a gap, and of one not sent yet (RefCmdSN ahead):
    /// both CmdSNs count as received and aborted, so filling the gap releases what follows,
    /// and the unsent command arriving late is dropped. ABORT TASK SET aborts held commands
    /// sent before it as well.
    @Test func abortingCommandsBehindAGapDoesNotStallTheCommandsAfterThem() async throws {
        try await Self.withBystander(scripted: "gap-aborter") { _, bystander, initiator in
            let gap = initiator.cmdSN
            let late: UInt32 = 0x7777
            let (held, abortHeld, abortUnsent) = try await initiator.blocking { initiator in
                let held = try initiator.send(cdb: [0, 0, 0, 0, 0, 0], cmdSN: gap &+ 1)
                // As if the commands at the gap and after the held one were sent and are still on their way.
                initiator.cmdSN = gap &+ 3
                let abortHeld = try initiator.taskManagement(.abortTask, referencedTaskTag: held, refCmdSN: gap &+ 1)
                let abortUnsent = try initiator.taskManagement(.abortTask, referencedTaskTag: late, refCmdSN: gap &+ 2)
                return (held, abortHeld, abortUnsent)
            }
            #expect(abortHeld.response == Self.complete && abortUnsent.response == Self.complete)
            #expect(try await Self.verifiedIO(bystander, lba: 900, blocks: 8, seed: 6))
            let (filler, next) = try await initiator.blocking { initiator in
                let filler = try initiator.client.completion(of: initiator.send(cdb: [0, 0, 0, 0, 0, 0], cmdSN: gap))
                // The aborted command turns up after all: a duplicate by now.
                try initiator.send(cdb: [0, 0, 0, 0, 0, 0], cmdSN: gap &+ 2, tag: late)
                return (filler, try initiator.run(cdb: [0, 0, 0, 0, 0, 0]))
            }
            #expect(filler.status == 0 && next.status == 0)
            for tag in [held, late] {
                #expect(!Self.hasResponse(for: tag, in: abortHeld.others + abortUnsent.others + filler.others + next.others), "aborted task \(tag) answered")
            }

            // ABORT TASK SET reaches a command held behind a gap too, as if both had been sent before it.
            let secondGap = initiator.cmdSN
            let (heldAgain, abortSet, secondFiller, last) = try await initiator.blocking { initiator in
                let heldAgain = try initiator.send(cdb: [0, 0, 0, 0, 0, 0], cmdSN: secondGap &+ 1)
                initiator.cmdSN = secondGap &+ 2
                let abortSet = try initiator.taskManagement(.abortTaskSet)
                let secondFiller = try initiator.client.completion(of: initiator.send(cdb: [0, 0, 0, 0, 0, 0], cmdSN: secondGap))
                return (heldAgain, abortSet, secondFiller, try initiator.run(cdb: [0, 0, 0, 0, 0, 0]))
            }
            #expect(abortSet.response == Self.complete && secondFiller.status == 0 && last.status == 0)
            #expect(!Self.hasResponse(for: heldAgain, in: abortSet.others + secondFiller.others + last.others), "the held command survived ABORT TASK SET")
        }
    }

    /// 200 login, command, logout cycles, each from a fresh initiator port (a new ISID, as
    /// libiscsi's tools use): once the unit's memory of lost nexuses is full the per-nexus
    /// records stop growing, no session is left registered, and a long-lived session
    /// beside them keeps working.
    @Test func twoHundredLoginLogoutCyclesLeaveNoGrowingState() async throws {
        try await ExportHarness.with { harness in
            let bystander = try await harness.session(initiator: "iqn.2025-01.io.vdiskd:bystander")
            _ = try await Self.verifiedIO(bystander, lba: 0, blocks: 1, seed: 0)
            func nexusRecords() -> Int {
                harness.unit.state.withLockedValue { $0.seen.count + $0.unitAttentions.count + $0.abortGenerations.count + $0.lostNexuses.count }
            }
            /// Once the last logout's nexus loss has counted: the remembered lost ports and the bystander.
            func settled() async -> Bool {
                await Self.eventually {
                    harness.server.sessionCount == 1 && harness.unit.state.withLockedValue { $0.seen.count } == LogicalUnitState.lostNexusMemory + 1
                }
            }
            var plateau: Int?
            for cycle in 0..<200 {
                let initiator = try await ScriptedInitiator.connect(
                    port: harness.portal.port, initiator: "iqn.2025-01.io.vdiskd:cycler", isid: 0x80_0000_1000_00 + UInt64(cycle) << 8
                )
                let ready = try await initiator.blocking { initiator in
                    let ready = try initiator.run(cdb: [0, 0, 0, 0, 0, 0])
                    try initiator.logout()
                    return ready
                }
                #expect(ready.status == SCSIStatus.checkCondition.rawValue, "a fresh port's first command hears POWER ON")
                if cycle == LogicalUnitState.lostNexusMemory + 20 {
                    #expect(await settled(), "\(harness.server.sessionCount) sessions, \(nexusRecords()) records")
                    plateau = nexusRecords()
                }
                if cycle % 50 == 49 {
                    #expect(try await Self.verifiedIO(bystander, lba: UInt32(1000 + cycle), blocks: 1, seed: UInt64(cycle)))
                }
            }
            #expect(await settled(), "\(harness.server.sessionCount) sessions, \(nexusRecords()) records")
            #expect(nexusRecords() == plateau, "per-nexus records went from \(String(describing: plateau)) to \(nexusRecords())")
            try await bystander.logout()
            #expect(await Self.eventually { harness.server.sessionCount == 0 }, "\(harness.server.sessionCount) sessions")
        }
    }
}
