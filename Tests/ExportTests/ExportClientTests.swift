// The export against real initiators: libiscsi's tools, QEMU's iSCSI driver and our own
// native initiator, all on loopback, each call bounded by a timeout.

import BlockDevice
import Foundation
import ISCSI
import NIOCore
import SCSI
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(5))) struct ExportClientTests {
    @Test func libiscsiToolsDiscoverInquireAndReadTheCapacity() async throws {
        try await ExportHarness.with(size: 32 << 20) { harness in
            let found = try await LibISCSIClient.discover(Portal(host: harness.portal.host, port: harness.portal.port))
            #expect(found.map(\.iqn) == [ExportHarness.iqn])
            #expect(found.first?.portal.hasPrefix("127.0.0.1:\(harness.portal.port)") == true)
            let inquiry = try await LibISCSIClient.inquiry(harness.url()).check()
            #expect(inquiry.stdout.contains("Vendor:VDISKD"))
            #expect(try await LibISCSIClient.capacity(harness.url()) == 32 << 20)
        }
    }

    @Test func qemuImgConvertsOntoTheExportAndComparesBack() async throws {
        try await ExportHarness.with(size: 16 << 20) { harness in
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<(4 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let source = harness.directory.file("random.raw")
            try Data(bytes).write(to: URL(fileURLWithPath: source))
            try await ExternalCommand.run(.qemuImg, ["convert", "-n", "-f", "raw", "-O", "raw", source, harness.url()], timeout: .seconds(60)).check()
            let compare = try await ExternalCommand.run(.qemuImg, ["compare", "-f", "raw", "-F", "raw", source, harness.url()], timeout: .seconds(60))
            #expect(compare.status.isSuccess, "qemu-img compare: \(compare)")
            // And the image behind the export holds the same bytes.
            let direct = try #require(FileManager.default.contents(atPath: harness.imagePath))
            #expect(Array(direct.prefix(bytes.count)) == bytes)
        }
    }

    @Test func chapOneWayAndMutualAndAWrongSecretRefused() async throws {
        let policy = TargetAccessPolicy(
            chap: CHAPCredentials(user: "alice", secret: TestSecrets.alice),
            mutualCHAP: CHAPCredentials(user: "export", secret: TestSecrets.exportMutual)
        )
        try await ExportHarness.with(access: policy) { harness in
            let good = try await LibISCSIClient.inquiry(harness.url(chap: .oneWay(user: "alice", secret: TestSecrets.alice)))
            #expect(good.status.isSuccess, "\(good)")
            let mutual = try await LibISCSIClient.inquiry(harness.url(chap: .mutual(user: "alice", secret: TestSecrets.alice, targetUser: "export", targetSecret: TestSecrets.exportMutual)))
            #expect(mutual.status.isSuccess, "\(mutual)")
            let wrong = try await LibISCSIClient.inquiry(harness.url(chap: .oneWay(user: "alice", secret: TestSecrets.wrong)))
            #expect(!wrong.status.isSuccess)
            let none = try await LibISCSIClient.inquiry(harness.url())
            #expect(!none.status.isSuccess)

            // Our own initiator, SHA-256 first, with mutual CHAP checking the export's proof.
            let session = try await harness.session(authentication: .chap(
                CHAPCredentials(user: "alice", secret: TestSecrets.alice), mutual: CHAPCredentials(user: "export", secret: TestSecrets.exportMutual)
            ))
            let ready = try await session.execute(SCSITaskRequest(lun: 0, cdb: [0, 0, 0, 0, 0, 0]))
            #expect(ready.status == 0 || ready.status == 2)
            try await session.logout()
            await #expect(throws: ISCSIError.self) {
                _ = try await harness.session(authentication: .chap(
                    CHAPCredentials(user: "alice", secret: TestSecrets.alice), mutual: CHAPCredentials(user: "export", secret: TestSecrets.wrongTarget)
                ))
            }
        }
    }

    @Test func theACLAdmitsOnlyListedInitiators() async throws {
        let allowed = "iqn.2025-01.io.vdiskd:allowed"
        try await ExportHarness.with(access: TargetAccessPolicy(allowedInitiators: [allowed])) { harness in
            let session = try await harness.session(initiator: allowed)
            try await session.logout()
            do {
                _ = try await harness.session(initiator: "iqn.2025-01.io.vdiskd:stranger")
                Issue.record("a stranger logged in")
            } catch let error as ISCSIError {
                #expect(error.code == .authorizationFailed)
            }
            // Discovery does not advertise the target to a stranger either.
            let denied = try await ExternalCommand.run(.iscsiInq, ["-i", "iqn.2025-01.io.vdiskd:stranger", harness.url()], timeout: .seconds(20))
            #expect(!denied.status.isSuccess)
        }
    }

    @Test func twoInitiatorsRaceCompareAndWriteAndExactlyOneWinsEachRound() async throws {
        try await ExportHarness.with { harness in
            let first = try await harness.session(initiator: "iqn.2025-01.io.vdiskd:one")
            let second = try await harness.session(initiator: "iqn.2025-01.io.vdiskd:two")
            try await clearUnitAttentions(first)
            try await clearUnitAttentions(second)
            func block(_ round: Int) -> [UInt8] {
                var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: round), count: 512)
                bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(round).bigEndian, Array.init))
                return bytes
            }
            let seed = try await first.execute(SCSITaskRequest(lun: 0, cdb: [0x2A, 0, 0, 0, 0, 7, 0, 0, 1, 0], dataOut: ByteBuffer(bytes: block(0))))
            #expect(seed.isGood)
            let caw: [UInt8] = [0x89, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0]
            var winners = [0, 0]
            for round in 0..<1000 {
                let payload = ByteBuffer(bytes: block(round) + block(round + 1))
                async let a = first.execute(SCSITaskRequest(lun: 0, cdb: caw, dataOut: payload))
                async let b = second.execute(SCSITaskRequest(lun: 0, cdb: caw, dataOut: payload))
                let results = try await [a, b]
                let good = results.filter(\.isGood).count
                guard good == 1 else {
                    Issue.record("round \(round): \(good) winners, statuses \(results.map(\.status))")
                    break
                }
                #expect(results.contains { $0.status == 2 && $0.senseData.count > 2 && $0.senseData[2] & 0x0F == 0x0E })
                winners[results[0].isGood ? 0 : 1] += 1
            }
            #expect(winners[0] + winners[1] == 1000)
            try await first.logout()
            try await second.logout()
        }
    }

    @Test func aSecondNexusGetsReservationConflict() async throws {
        try await ExportHarness.with { harness in
            let holder = try await harness.session(initiator: "iqn.2025-01.io.vdiskd:holder")
            let other = try await harness.session(initiator: "iqn.2025-01.io.vdiskd:other")
            // Power-on unit attentions first, so the statuses below are the reservation's.
            try await clearUnitAttentions(holder)
            try await clearUnitAttentions(other)
            var key = ByteBuffer(repeating: 0, count: 24)
            key.setInteger(UInt64(0xC0FFEE), at: 8)
            let register = try await holder.execute(SCSITaskRequest(lun: 0, cdb: [0x5F, 0x00, 0, 0, 0, 0, 0, 0, 24, 0], dataOut: key))
            #expect(register.isGood, "REGISTER: \(register.status)")
            var reservation = ByteBuffer(repeating: 0, count: 24)
            reservation.setInteger(UInt64(0xC0FFEE), at: 0)
            // RESERVE, type 1: Write Exclusive.
            let reserve = try await holder.execute(SCSITaskRequest(lun: 0, cdb: [0x5F, 0x01, 0x01, 0, 0, 0, 0, 0, 24, 0], dataOut: reservation))
            #expect(reserve.isGood, "RESERVE: \(reserve.status)")
            let write = try await other.execute(SCSITaskRequest(lun: 0, cdb: [0x2A, 0, 0, 0, 0, 1, 0, 0, 1, 0], dataOut: ByteBuffer(repeating: 9, count: 512)))
            #expect(write.status == SCSIStatus.reservationConflict.rawValue)
            let own = try await holder.execute(SCSITaskRequest(lun: 0, cdb: [0x2A, 0, 0, 0, 0, 1, 0, 0, 1, 0], dataOut: ByteBuffer(repeating: 9, count: 512)))
            #expect(own.isGood)
            try await holder.logout()
            try await other.logout()
        }
    }

    @Test func malformedPDUsGetARejectOrADropWhileAnotherSessionKeepsWorking() async throws {
        try await ExportHarness.with { harness in
            let bystander = try await harness.session(initiator: "iqn.2025-01.io.vdiskd:bystander")
            try await clearUnitAttentions(bystander)

            let raw = try RawISCSIClient(port: harness.portal.port)
            let login = try raw.login(target: ExportHarness.iqn)
            #expect(login.statusClass == 0 && login.nextStage == .fullFeaturePhase)

            // An opcode nobody defined: Reject, "command not supported", with our header back.
            var unknown = ByteBuffer(repeating: 0, count: 48)
            unknown.setInteger(UInt8(0x1C), at: 0)
            unknown.setInteger(UInt32(0x1234), at: 16)
            try raw.sendBytes(unknown)
            guard case .reject(let reject) = try raw.receive() else {
                Issue.record("no Reject for an unknown opcode")
                return
            }
            #expect(reject.reason == RejectReason.commandNotSupported.rawValue && reject.rejectedInitiatorTaskTag == 0x1234)

            // Immediate data on a command without the W bit: Reject, "protocol error".
            try raw.send(.scsiCommand(SCSICommand(read: true, write: false, lun: 0, initiatorTaskTag: 7, expectedDataTransferLength: 512, cmdSN: 1, expStatSN: login.statSN &+ 1, cdb: [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], data: ByteBuffer(repeating: 1, count: 512))))
            guard case .reject(let protocolError) = try raw.receive() else {
                Issue.record("no Reject for data on a read")
                return
            }
            #expect(protocolError.reason == RejectReason.protocolError.rawValue)

            // The connection still works after the Rejects: a CDB the unit refuses is a CHECK CONDITION.
            // CmdSN 2: the rejected command above still used up CmdSN 1.
            try raw.send(.scsiCommand(SCSICommand(read: false, write: false, lun: 0, initiatorTaskTag: 8, expectedDataTransferLength: 0, cmdSN: 2, expStatSN: 0, cdb: [0xFF, 0, 0, 0, 0, 0])))
            // The first command of a fresh nexus may meet a power-on unit attention; either is CHECK CONDITION.
            guard case .scsiResponse(let refused) = try raw.receive() else {
                Issue.record("no SCSI Response to an unknown CDB")
                return
            }
            #expect(refused.status == SCSIStatus.checkCondition.rawValue)

            // A data segment longer than we declared cannot be skipped: the connection goes.
            var oversized = ByteBuffer(repeating: 0, count: 48)
            oversized.setInteger(UInt8(0x01), at: 0)
            oversized.setInteger(UInt32(0x00FF_FFFF), at: 4)
            try raw.sendBytes(oversized)
            #expect(try raw.receive() == nil)

            // The other session never noticed.
            let read = try await bystander.execute(SCSITaskRequest(lun: 0, cdb: [0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0], expectedDataInLength: 4096))
            #expect(read.isGood && read.data.readableBytes == 4096)
            try await bystander.logout()
        }
    }

    @Test func twoPortalsServeTheSameUnitToTwoInitiatorsAtOnce() async throws {
        try await ExportHarness.with(portalCount: 2) { harness in
            let payload = ByteBuffer(repeating: 0x5A, count: 64 * 512)
            let session = try await harness.session()
            try await clearUnitAttentions(session)
            let write = try await session.execute(SCSITaskRequest(lun: 0, cdb: [0x2A, 0, 0, 0, 0, 0, 0, 0, 64, 0], dataOut: payload))
            #expect(write.isGood)
            async let viaSecond = LibISCSIClient.inquiry(harness.url(portal: 1))
            async let viaFirst = LibISCSIClient.inquiry(harness.url(portal: 0))
            let (second, first) = try await (viaSecond, viaFirst)
            #expect(second.status.isSuccess && first.status.isSuccess)
            let copy = harness.directory.file("copy.raw")
            try await LibISCSIClient.copy(from: harness.url(portal: 1), to: copy, blocks: 64)
            let bytes = try #require(FileManager.default.contents(atPath: copy))
            #expect(bytes == Data(repeating: 0x5A, count: 64 * 512))
            try await session.logout()
        }
    }

    /// TEST UNIT READY until GOOD (a fresh nexus first hears POWER ON, RESET), at most five times.
    func clearUnitAttentions(_ session: ISCSISession) async throws {
        for _ in 0..<5 {
            if try await session.execute(SCSITaskRequest(lun: 0, cdb: [0, 0, 0, 0, 0, 0])).isGood { return }
        }
        Issue.record("TEST UNIT READY never returned GOOD")
    }

    @Test func getLBAStatusSeesTheImageFilesHoles() async throws {
        try await ExportHarness.with(size: 8 << 20) { harness in
            let session = try await harness.session()
            try await clearUnitAttentions(session)
            // Write 8 blocks at LBA 4096 (2 MiB into the file); the rest stays a hole.
            let write = try await session.execute(SCSITaskRequest(lun: 0, cdb: [0x2A, 0, 0, 0, 0x10, 0, 0, 0, 8, 0], dataOut: ByteBuffer(repeating: 7, count: 4096)))
            #expect(write.isGood)
            func status(_ lba: UInt64) async throws -> (lba: UInt64, count: UInt32, state: UInt8) {
                var cdb: [UInt8] = [0x9E, 0x12] + withUnsafeBytes(of: lba.bigEndian, Array.init) + [0, 0, 0, 24, 0, 0]
                cdb[13] = 24
                let result = try await session.execute(SCSITaskRequest(lun: 0, cdb: cdb, expectedDataInLength: 24))
                #expect(result.isGood)
                let data = result.data
                return (data.getInteger(at: data.readerIndex + 8, as: UInt64.self) ?? 0, data.getInteger(at: data.readerIndex + 16, as: UInt32.self) ?? 0, (data.getInteger(at: data.readerIndex + 20, as: UInt8.self) ?? 0xFF) & 0x0F)
            }
            let hole = try await status(0)
            #expect(hole.lba == 0 && hole.state == 1 && hole.count >= 1)
            let mapped = try await status(4096)
            #expect(mapped.lba == 4096 && mapped.state == 0 && mapped.count >= 8)
            try await session.logout()
        }
    }
}
