// Proves TestSupport's istgt harness with libiscsi's clients: LUN sizes,
// CHAP one-way and mutual, clean stops. No iscsi-ls here: istgt's
// SendTargets answer makes it spin forever.

import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite(.timeLimit(.minutes(2)))
struct IstgtHarnessTests {
    static let mebibyte: UInt64 = 1 << 20

    @Test func fileLUNsOfSeveralTargetsHaveTheirSizes() async throws {
        let first = "iqn.2026-11.vdiskd.test:istgt-a"
        let second = "iqn.2026-11.vdiskd.test:istgt-b"
        let configuration = IstgtConfiguration(targets: [
            IstgtTargetSpec(iqn: first, luns: [.file(0, size: 32 * Self.mebibyte)]),
            IstgtTargetSpec(iqn: second, luns: [.file(0, size: 16 * Self.mebibyte), .file(1, size: 8 * Self.mebibyte)]),
        ])
        try await withIstgt(configuration) { istgt in
            for (iqn, lun, size) in [(first, 0, 32 * Self.mebibyte), (second, 0, 16 * Self.mebibyte), (second, 1, 8 * Self.mebibyte)] {
                let inquiry = try await LibISCSIClient.inquiry(istgt.url(iqn, lun: lun))
                #expect(inquiry.succeeded, "\(inquiry)")
                #expect(try await LibISCSIClient.capacity(istgt.url(iqn, lun: lun)) == size)
                let file = try #require(istgt.target(iqn)?.lun(lun)?.backingFile)
                #expect(FileManager.default.fileExists(atPath: file))
            }
            #expect(istgt.portal.port != istgt.unitControlPortal.port)
        }
    }

    @Test func chapRefusesClientsWithoutTheRightCredentials() async throws {
        let iqn = "iqn.2026-11.vdiskd.test:istgt-chap"
        let chap = CHAPAuthentication.oneWay(user: "carol", secret: "carol-secret-1")
        let configuration = IstgtConfiguration(targets: [IstgtTargetSpec(iqn: iqn, luns: [.file(0, size: Self.mebibyte)], chap: chap)])
        try await withIstgt(configuration) { istgt in
            let anonymous = try await LibISCSIClient.inquiry(istgt.portal.libiscsiURL(target: iqn, lun: 0))
            #expect(!anonymous.succeeded)
            #expect(anonymous.output.contains("Authentication failure"), "\(anonymous)")

            let wrong = CHAPAuthentication.oneWay(user: "carol", secret: "not-the-secret")
            #expect(!(try await LibISCSIClient.inquiry(istgt.portal.libiscsiURL(target: iqn, lun: 0, chap: wrong))).succeeded)

            let accepted = try await LibISCSIClient.inquiry(istgt.url(iqn, lun: 0))
            #expect(accepted.succeeded, "\(accepted)")
        }
    }

    @Test func mutualCHAPChecksTheTargetToo() async throws {
        let iqn = "iqn.2026-11.vdiskd.test:istgt-mutual"
        let chap = CHAPAuthentication.mutual(user: "dave", secret: "dave-secret-12", targetUser: "istgt-dave", targetSecret: "target-secret-2")
        let configuration = IstgtConfiguration(targets: [IstgtTargetSpec(iqn: iqn, luns: [.file(0, size: Self.mebibyte)], chap: chap)])
        try await withIstgt(configuration) { istgt in
            let accepted = try await LibISCSIClient.inquiry(istgt.url(iqn, lun: 0))
            #expect(accepted.succeeded, "\(accepted)")

            var impostor = chap
            impostor.target?.secret = "some-other-secret"
            let refused = try await LibISCSIClient.inquiry(istgt.portal.libiscsiURL(target: iqn, lun: 0, chap: impostor))
            #expect(!refused.succeeded, "the client must reject a target answering with another secret")

            // "CHAP Mutual" makes istgt insist on it: one-way is refused.
            let oneWay = CHAPAuthentication(initiator: chap.initiator)
            #expect(!(try await LibISCSIClient.inquiry(istgt.portal.libiscsiURL(target: iqn, lun: 0, chap: oneWay))).succeeded)
        }
    }

    @Test func stopLeavesNoProcessOrDirectoryAndFreesThePorts() async throws {
        let iqn = "iqn.2026-11.vdiskd.test:istgt-stop"
        let configuration = IstgtConfiguration(targets: [IstgtTargetSpec(iqn: iqn, luns: [.file(0, size: Self.mebibyte)])])
        let (pid, ports, directory) = try await withIstgt(configuration) { istgt in
            let inquiry = try await LibISCSIClient.inquiry(istgt.url(iqn, lun: 0))
            #expect(inquiry.succeeded, "\(inquiry)")
            return (istgt.pid, [istgt.portal.port, istgt.unitControlPortal.port], istgt.directory)
        }
        #expect(ProcessProbe.isGone(pid))
        for port in ports {
            #expect(!LoopbackPort.isAccepting(port: port))
            #expect(LoopbackPort.canBind(port: port))
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }

    @Test func dataWrittenToALUNLandsInItsBackingFile() async throws {
        let iqn = "iqn.2026-11.vdiskd.test:istgt-data"
        let configuration = IstgtConfiguration(targets: [IstgtTargetSpec(iqn: iqn, luns: [.file(0, size: Self.mebibyte)])])
        try await withIstgt(configuration) { istgt in
            let file = try #require(istgt.target(iqn)?.lun(0)?.backingFile)
            let pattern = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) })
            let source = istgt.directory.file("pattern.bin")
            try pattern.write(to: URL(fileURLWithPath: source))

            // Eight 512-byte blocks from LBA 0; the rest of the LUN stays zero.
            try await LibISCSIClient.copy(from: source, to: istgt.url(iqn, lun: 0), blocks: 8)

            let backing = try #require(FileManager.default.contents(atPath: file))
            #expect(backing.count == Int(Self.mebibyte))
            #expect(backing.prefix(4096) == pattern)
            #expect(backing.dropFirst(4096).allSatisfy { $0 == 0 })
        }
    }
}
