// Logging in to real targets: no authentication, one-way and mutual CHAP, and the refusals.

import BlockDevice
import Foundation
import ISCSI
import NIOCore
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2)))
struct LoginIntegrationTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:login"

    private func configuration(_ daemon: some ISCSITargetDaemon, iqn: String = LoginIntegrationTests.iqn) -> ISCSISessionConfiguration {
        ISCSISessionConfiguration(
            portal: TargetPortal(host: daemon.portal.host, port: daemon.portal.port),
            targetName: iqn,
            loginTimeout: .seconds(10)
        )
    }

    @Test func noAuthentication() async throws {
        try await withTgt(TgtConfiguration(targets: [TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 8 << 20)])])) { tgt in
            let session = try await ISCSISession.connect(configuration(tgt))
            #expect(session.negotiated.maxRecvDataSegmentLength > 0)
            let result = try await session.execute(SCSITaskRequest(lun: 1, cdb: [0, 0, 0, 0, 0, 0], operationName: "TEST UNIT READY"))
            // The first command after login may report the power-on unit attention.
            #expect(result.status == 0 || result.status == 2)
            try await session.logout()
        }
    }

    @Test(arguments: [false, true])
    func chap(mutual: Bool) async throws {
        let chap: CHAPAuthentication = mutual
            ? .mutual(user: "alice", secret: "alice-secret-12", targetUser: "target", targetSecret: "target-secret-1")
            : .oneWay(user: "alice", secret: "alice-secret-12")
        let spec = TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 8 << 20)], chap: chap)
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            let device = try await InitiatorEngine.native.open(tgt.url(Self.iqn, lun: 1))
            let data = TestPattern.bytes(seed: 7, count: 4096)
            try await device.write(data, at: 8)
            #expect(try await device.read(at: 8, blockCount: 8) == data)
            try await device.close()
        }
    }

    @Test func wrongSecretIsRefusedAsAuthenticationFailure() async throws {
        let spec = TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 8 << 20)], chap: .oneWay(user: "alice", secret: "alice-secret-12"))
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            var configuration = configuration(tgt)
            configuration.authentication = .chap(CHAPCredentials(user: "alice", secret: "not-the-secret"), mutual: nil)
            let error = try await #require(throws: ISCSIError.self) { try await ISCSISession.connect(configuration) }
            #expect(error.code == .authenticationFailed)
            #expect(error.scope == .session)
            #expect(error.description.contains("authentication failed"))
        }
    }

    @Test func wrongTargetSecretInMutualCHAPIsRefused() async throws {
        let chap = CHAPAuthentication.mutual(user: "alice", secret: "alice-secret-12", targetUser: "target", targetSecret: "target-secret-1")
        let spec = TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 8 << 20)], chap: chap)
        try await withTgt(TgtConfiguration(targets: [spec])) { tgt in
            var configuration = configuration(tgt)
            configuration.authentication = .chap(
                CHAPCredentials(user: "alice", secret: "alice-secret-12"),
                mutual: CHAPCredentials(user: "target", secret: "a-wrong-secret!")
            )
            let error = try await #require(throws: ISCSIError.self) { try await ISCSISession.connect(configuration) }
            #expect(error.code == .authenticationFailed)
            #expect(error.description.contains("target"))
        }
    }

    @Test func unknownTargetNameSaysTargetNotFound() async throws {
        try await withTgt(TgtConfiguration(targets: [TgtTargetSpec(iqn: Self.iqn, luns: [.file(1, size: 8 << 20)])])) { tgt in
            let error = try await #require(throws: ISCSIError.self) {
                try await ISCSISession.connect(configuration(tgt, iqn: "iqn.2026-11.org.vdiskd.test:nobody"))
            }
            #expect(error.code == .targetNotFound)
            #expect(error.description.contains("not found"))
        }
    }

    @Test func nothingListeningIsAConnectFailure() async throws {
        let port = try LoopbackPort.reserve()
        let configuration = ISCSISessionConfiguration(
            portal: TargetPortal(host: "127.0.0.1", port: port),
            targetName: Self.iqn,
            connectTimeout: .seconds(2)
        )
        let error = try await #require(throws: ISCSIError.self) { try await ISCSISession.connect(configuration) }
        #expect(error.code == .connectFailed)
        #expect(error.description.contains("127.0.0.1:\(port)"))
    }

    @Test func istgtWithCHAP() async throws {
        let iqn = "iqn.2026-11.org.vdiskd.test:istgt-chap"
        let spec = IstgtTargetSpec(iqn: iqn, luns: [.file(0, size: 8 << 20)], chap: .oneWay(user: "bob", secret: "bob-secret-123"))
        try await withIstgt(IstgtConfiguration(targets: [spec])) { istgt in
            let device = try await InitiatorEngine.native.open(istgt.url(iqn, lun: 0))
            let data = TestPattern.bytes(seed: 11, count: 8192)
            try await device.write(data, at: 0)
            #expect(try await device.read(at: 0, blockCount: 16) == data)
            try await device.close()
        }
    }
}
