// Proves TestSupport's tgtd harness against libiscsi's own clients: LUN
// sizes, discovery, CHAP, forced keys, parallel instances, clean stops.

import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite(.timeLimit(.minutes(2)))
struct TgtHarnessTests {
    static let mebibyte: UInt64 = 1 << 20

    @Test func fileAndNullLUNsHaveTheirSizes() async throws {
        let iqn = "iqn.2026-11.vdiskd.test:sizes"
        let configuration = TgtConfiguration(targets: [
            TgtTargetSpec(iqn: iqn, luns: [.file(1, size: 64 * Self.mebibyte, thinProvisioning: true), .null(2)])
        ])
        try await withTgt(configuration) { tgt in
            for lun in [1, 2] {
                let inquiry = try await LibISCSIClient.inquiry(tgt.url(iqn, lun: lun))
                #expect(inquiry.succeeded, "\(inquiry)")
                #expect(inquiry.stdout.contains("Peripheral Device Type:DIRECT_ACCESS"))
            }
            #expect(try await LibISCSIClient.capacity(tgt.url(iqn, lun: 1)) == 64 * Self.mebibyte)
            #expect(try await LibISCSIClient.capacity(tgt.url(iqn, lun: 2)) == 1 << 40)

            let file = try #require(tgt.target(iqn)?.lun(1)?.backingFile)
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.size] as? NSNumber)?.uint64Value == 64 * Self.mebibyte)
            #expect(tgt.target(iqn)?.lun(2)?.backingFile == nil)

            let shown = try await tgt.tgtadm(["--lld", "iscsi", "--op", "show", "--mode", "target"]).stdout
            #expect(shown.contains("Backing store path: \(file)"))
            #expect(shown.contains("Thin-provisioning: Yes"))
        }
    }

    @Test func dataPutInTheBackingFileIsReadThroughTheLUN() async throws {
        let iqn = "iqn.2026-11.vdiskd.test:data"
        let configuration = TgtConfiguration(targets: [TgtTargetSpec(iqn: iqn, luns: [.file(1, size: Self.mebibyte)])])
        try await withTgt(configuration) { tgt in
            let file = try #require(tgt.target(iqn)?.lun(1)?.backingFile)
            let pattern = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) })
            let handle = try #require(FileHandle(forWritingAtPath: file))
            try handle.write(contentsOf: pattern)
            try handle.close()

            let copy = tgt.directory.file("read-back.bin")
            try await LibISCSIClient.copy(from: tgt.url(iqn, lun: 1), to: copy, blocks: 8)
            #expect(FileManager.default.contents(atPath: copy) == pattern)
        }
    }

    @Test func iscsiLsListsEveryTarget() async throws {
        let iqns = ["iqn.2026-11.vdiskd.test:first", "iqn.2026-11.vdiskd.test:second"]
        let configuration = TgtConfiguration(targets: iqns.map { TgtTargetSpec(iqn: $0, luns: [.null(1)]) })
        try await withTgt(configuration) { tgt in
            let found = try await LibISCSIClient.discover(tgt.portal)
            #expect(Set(found.map(\.iqn)) == Set(iqns))
            #expect(found.allSatisfy { $0.portal == "\(tgt.portal),1" })
        }
    }

    @Test func chapRefusesClientsWithoutTheRightCredentials() async throws {
        let iqn = "iqn.2026-11.vdiskd.test:chap"
        let chap = CHAPAuthentication.oneWay(user: "alice", secret: "alice-secret-12")
        let configuration = TgtConfiguration(targets: [TgtTargetSpec(iqn: iqn, luns: [.null(1)], chap: chap)])
        try await withTgt(configuration) { tgt in
            let anonymous = try await LibISCSIClient.inquiry(tgt.portal.libiscsiURL(target: iqn, lun: 1))
            #expect(!anonymous.succeeded)
            #expect(anonymous.output.contains("Authentication failure"), "\(anonymous)")

            let wrong = CHAPAuthentication.oneWay(user: "alice", secret: "not-the-secret")
            let refused = try await LibISCSIClient.inquiry(tgt.portal.libiscsiURL(target: iqn, lun: 1, chap: wrong))
            #expect(!refused.succeeded)

            let accepted = try await LibISCSIClient.inquiry(tgt.url(iqn, lun: 1))
            #expect(accepted.succeeded, "\(accepted)")
            #expect(tgt.target(iqn)?.chap == chap)
        }
    }

    @Test func mutualCHAPChecksTheTargetToo() async throws {
        let iqn = "iqn.2026-11.vdiskd.test:mutual"
        let chap = CHAPAuthentication.mutual(user: "bob", secret: "bob-secret-123", targetUser: "tgt-bob", targetSecret: "target-secret-1")
        let configuration = TgtConfiguration(targets: [TgtTargetSpec(iqn: iqn, luns: [.null(1)], chap: chap)])
        try await withTgt(configuration) { tgt in
            let accepted = try await LibISCSIClient.inquiry(tgt.url(iqn, lun: 1))
            #expect(accepted.succeeded, "\(accepted)")

            var impostor = chap
            impostor.target?.secret = "some-other-secret"
            let refused = try await LibISCSIClient.inquiry(tgt.portal.libiscsiURL(target: iqn, lun: 1, chap: impostor))
            #expect(!refused.succeeded, "the client must reject a target answering with another secret")
        }
    }

    @Test func forcedParametersAreWhatTheTargetNegotiates() async throws {
        let iqn = "iqn.2026-11.vdiskd.test:keys"
        let forced: [TgtTargetParameter] = [
            .headerDigest(.crc32c), .dataDigest(.crc32c), .immediateData(false), .initialR2T(true),
            .firstBurstLength(65536), .maxBurstLength(131_072), .maxRecvDataSegmentLength(32768), .maxOutstandingR2T(4),
        ]
        let configuration = TgtConfiguration(targets: [TgtTargetSpec(iqn: iqn, luns: [.file(1, size: Self.mebibyte)], parameters: forced)])
        try await withTgt(configuration) { tgt in
            let shown = try await tgt.parameters(tid: try #require(tgt.tid(of: iqn)))
            for parameter in forced {
                #expect(shown[parameter.key] == parameter.value)
            }
            // libiscsi offers "CRC32C,None" for digests, so login still works.
            let inquiry = try await LibISCSIClient.inquiry(tgt.url(iqn, lun: 1))
            #expect(inquiry.succeeded, "\(inquiry)")
        }
    }

    @Test func aRefusedSettingNamesTheCommandAndItsError() async throws {
        let configuration = TgtConfiguration(targets: [
            TgtTargetSpec(iqn: "iqn.2026-11.vdiskd.test:bad", luns: [.null(1)], parameters: [.firstBurstLength(100)])
        ])
        let error = try await #require(throws: TestSupportError.self) {
            try await withTgt(configuration) { _ in }
        }
        #expect(error.code == .commandFailed)
        #expect(error.message.contains("tgtadm -C"))
        #expect(error.message.contains("--name FirstBurstLength --value 100"))
        #expect(error.message.contains("invalid request"))
    }

    @Test func invalidLUNNumberIsRejectedBeforeStarting() async throws {
        let configuration = TgtConfiguration(targets: [TgtTargetSpec(iqn: "iqn.2026-11.vdiskd.test:lun0", luns: [.null(0)])])
        let error = try await #require(throws: TestSupportError.self) {
            try await withTgt(configuration) { _ in }
        }
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.contains("LUN 0"))
    }

    @Test func stopLeavesNoProcessSocketOrDirectory() async throws {
        let configuration = TgtConfiguration(targets: [TgtTargetSpec(iqn: "iqn.2026-11.vdiskd.test:stop", luns: [.file(1, size: Self.mebibyte)])])
        let (pid, portal, directory, controlNumber) = try await withTgt(configuration) { tgt in
            // A live session makes tgtd refuse a plain target delete.
            let inquiry = try await LibISCSIClient.inquiry(tgt.url("iqn.2026-11.vdiskd.test:stop", lun: 1))
            #expect(inquiry.succeeded, "\(inquiry)")
            return (tgt.pid, tgt.portal, tgt.directory, tgt.controlNumber)
        }
        #expect(ProcessProbe.isGone(pid))
        #expect(!LoopbackPort.isAccepting(port: portal.port))
        #expect(LoopbackPort.canBind(port: portal.port))
        #expect(!FileManager.default.fileExists(atPath: directory.path))
        #expect(!FileManager.default.fileExists(atPath: "/var/run/tgtd/socket.\(controlNumber)"))
    }

    @Test func stopsWhenTheTestBodyThrows() async throws {
        struct BodyFailed: Error {}
        let configuration = TgtConfiguration(targets: [TgtTargetSpec(iqn: "iqn.2026-11.vdiskd.test:throws", luns: [.null(1)])])
        var pid: pid_t?
        do {
            try await withTgt(configuration) { tgt in
                pid = tgt.pid
                throw BodyFailed()
            }
            Issue.record("withTgt swallowed the body's error")
        } catch is BodyFailed {
            // The error must reach the caller unchanged.
        }
        #expect(ProcessProbe.isGone(try #require(pid)))
    }

    @Test func severalInstancesRunAtOnce() async throws {
        let instances = try await withThrowingTaskGroup(of: (Int, Int, String).self) { group in
            for index in 0..<3 {
                group.addTask {
                    let iqn = "iqn.2026-11.vdiskd.test:parallel\(index)"
                    let configuration = TgtConfiguration(targets: [TgtTargetSpec(iqn: iqn, luns: [.file(1, size: Self.mebibyte)])])
                    return try await withTgt(configuration) { tgt in
                        let inquiry = try await LibISCSIClient.inquiry(tgt.url(iqn, lun: 1))
                        #expect(inquiry.succeeded, "\(inquiry)")
                        return (tgt.portal.port, tgt.controlNumber, tgt.directory.path)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(instances.count == 3)
        #expect(Set(instances.map(\.0)).count == 3)
        #expect(Set(instances.map(\.1)).count == 3)
        #expect(Set(instances.map(\.2)).count == 3)
    }
}
